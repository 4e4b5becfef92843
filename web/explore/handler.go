package explore

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/layout"
	"github.com/convscope/convscope/web/samples"
)

// Models lists and looks up catalog entries.
type Models interface {
	Entries() []catalog.Entry
	Lookup(name string) (catalog.Entry, error)
}

// Gallery lists a dataset's sample pictures.
type Gallery interface {
	List(dataset string, classes []string) []samples.Sample
}

// Handler serves the explorer page.
type Handler struct {
	models  Models
	gallery Gallery
}

// New makes the explorer handler.
func New(models Models, gallery Gallery) *Handler {
	return &Handler{models: models, gallery: gallery}
}

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// GET /?model=name is the explorer for one model (default: the first).
	r.Get("/", h.page)
	return r
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	e, err := h.models.Lookup(r.URL.Query().Get("model"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	v := View{Model: e, Models: h.models.Entries(), Samples: h.gallery.List(catalog.GalleryFor(e), e.Classes)}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Page(v).Render(r.Context(), w)
}
