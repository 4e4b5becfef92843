// Package experiments is the web room of Zeiler & Fergus' experiments
// (package experiment): a page per experiment under /experiments, the
// long scans run by a server-wide queue and cached on disk, and figures
// drawn as PNG on request.
package experiments

import (
	"encoding/json"
	"fmt"
	"image"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
)

// Models is what the room needs of the catalog.
type Models interface {
	Entries() []catalog.Entry
	Open(name string) (*catalog.Model, error)
	Release(m *catalog.Model)
}

// Gallery lists and opens the sample pictures of a dataset.
type Gallery interface {
	List(dataset string, classes []string) []samples.Sample
	Open(dataset, file string) (image.Image, error)
}

// Handler serves the experiments' pages and their data.
type Handler struct {
	models  Models
	gallery Gallery
	charts  chartCache
	scans   *Scans
	sets    *Sets
	// draws bounds the figures drawn at once (each runs deconvnet passes).
	draws chan struct{}
}

// New makes the room: pictures come from gallery, datasets are looked for
// in dataDir first (then where data.Find looks), scans are cached in
// cacheDir.
func New(models Models, gallery Gallery, dataDir, cacheDir string) *Handler {
	sets := &Sets{Dir: dataDir}
	return &Handler{models: models, gallery: gallery, sets: sets, scans: NewScans(models, sets, cacheDir), draws: make(chan struct{}, 2)}
}

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// GET / lists the experiments.
	r.Get("/", h.index)
	// GET /topk?model=&layer=&split= is Figure 2's page.
	r.Get("/topk", h.topkPage)
	// POST /topk/scan?model=&layer=&split= starts the scan (or finds it
	// running, queued or cached) and answers its Status as JSON.
	r.Post("/topk/scan", h.topkScan)
	// GET /topk/scan.json?... is a finished scan (experiment.TopK).
	r.Get("/topk/scan.json", h.topkResult)
	// GET /topk/channel.png?...&channel=C is one channel's figure.
	r.Get("/topk/channel.png", h.topkChannel)
	// GET /topk/figure.png?... is the first channels' figure, captioned.
	r.Get("/topk/figure.png", h.topkFigure)
	// GET /filters?model=&layer=&compare=&compareLayer= is Figure 6's page.
	r.Get("/filters", h.filtersPage)
	// GET /filters/figure.png?model=&layer= draws a layer's filters.
	r.Get("/filters/figure.png", h.filtersFigure)
	// GET /invariance?model=&kind=&layers=&samples= is Figure 5's page.
	r.Get("/invariance", h.invariancePage)
	// GET /invariance/chart.svg?...&chart=K is one of its charts as a file.
	r.Get("/invariance/chart.svg", h.invarianceChart)
	// GET /occlusion?model=&sample=&layer=&window=&stride= is Figure 7's page.
	r.Get("/occlusion", h.occlusionPage)
	// GET /occlusion/stream?... runs the sweep: one JSON line per frame.
	r.Get("/occlusion/stream", h.occlusionStream)
	// GET /correspondence?model=&class=&box=&layers= is Table 1's page.
	r.Get("/correspondence", h.correspondencePage)
	// GET /correspondence/pictures.png?... draws the pictures compared.
	r.Get("/correspondence/pictures.png", h.correspondenceFigure)
	// GET /correspondence/picture.png?model=&index= is one test picture.
	r.Get("/correspondence/picture.png", h.correspondencePicture)
	return r
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Index().Render(r.Context(), w)
}

// withGallery lists the models that have sample pictures to run.
func (h *Handler) withGallery() []catalog.Entry {
	var out []catalog.Entry
	for _, e := range h.models.Entries() {
		if len(h.gallery.List(catalog.GalleryFor(e), e.Classes)) > 0 {
			out = append(out, e)
		}
	}
	return out
}

// entry is the catalog entry called name.
func (h *Handler) entry(name string) (catalog.Entry, error) {
	for _, e := range h.models.Entries() {
		if e.Name == name {
			return e, nil
		}
	}
	return catalog.Entry{}, fmt.Errorf("no model %q", name)
}

// unsafeFileChars matches what may not stand in a download's file name.
var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// weightsFlags is how convscope's command line names e's weights: the
// checkpoint's path (an embedded one's in the repository), or the zoo
// model and the seed of its random initialisation.
func weightsFlags(e catalog.Entry) string {
	if path := e.WeightsFile(); path != "" {
		return "-weights " + shellWord(path)
	}
	var seed uint64
	fmt.Sscanf(e.Source, "random initialisation, seed %d", &seed)
	return fmt.Sprintf("-model %s -init-seed %d", shellWord(e.Model), seed)
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/=,:", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// urlEscape escapes s for a URL's query.
func urlEscape(s string) string { return url.QueryEscape(s) }

// safeFile is s as a file name's part.
func safeFile(s string) string { return unsafeFileChars.ReplaceAllString(s, "_") }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
