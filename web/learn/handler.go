// Package learn is the web room of the lessons (/learn): one page per
// section of the seed tutorial, in its order, each explaining one idea in
// a few paragraphs (the text from package i18n, in English or Vietnamese)
// above the running engine's own numbers for a picture the reader picks.
package learn

import (
	"image"
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/web/layout"
	"github.com/convscope/convscope/web/samples"
)

// Models opens catalog models.
type Models interface {
	Entries() []catalog.Entry
	Lookup(name string) (catalog.Entry, error)
	Open(name string) (*catalog.Model, error)
	Release(m *catalog.Model)
}

// Gallery lists and decodes the sample pictures.
type Gallery interface {
	List(dataset string, classes []string) []samples.Sample
	Open(dataset, file string) (image.Image, error)
}

// Lesson is one section of the seed as a page: Slug is its URL
// (/learn/SLUG) and the catalogue keys' middle ("lesson.SLUG.title");
// Ready says the page is written.
type Lesson struct {
	Slug  string
	Ready bool
}

// Lessons are the seed's ten sections, in its order.
var Lessons = []Lesson{
	{"basics", true}, {"lenet", true}, {"alexnet", true}, {"zfnet", true}, {"vgg", true},
	{"googlenet", true}, {"resnet", true}, {"mobilenet", true}, {"convnext", true}, {"evaluation", true},
}

// TitleKey and SummaryKey are the lesson's catalogue keys.
func (l Lesson) TitleKey() string { return "lesson." + l.Slug + ".title" }

// SummaryKey is the key of the lesson's one-line summary.
func (l Lesson) SummaryKey() string { return "lesson." + l.Slug + ".summary" }

// next is the lesson after l that is written, if any.
func next(l Lesson) *Lesson {
	i := slices.IndexFunc(Lessons, func(o Lesson) bool { return o.Slug == l.Slug })
	for _, o := range Lessons[i+1:] {
		if o.Ready {
			return &o
		}
	}
	return nil
}

// Handler serves the lessons.
type Handler struct {
	models  Models
	gallery Gallery
}

// New makes the lessons' handler.
func New(models Models, gallery Gallery) *Handler { return &Handler{models: models, gallery: gallery} }

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// GET / lists the lessons.
	r.Get("/", h.index)
	// GET /basics?sample=FILE&map=C is the first lesson on a picture.
	r.Get("/basics", h.basics)
	// GET /alexnet?sample=FILE is the AlexNet lesson.
	r.Get("/alexnet", h.alexnet)
	// GET /zfnet?sample=FILE&layer=L&map=C is the ZFNet lesson.
	r.Get("/zfnet", h.zfnet)
	// GET /vgg?sample=FILE&c=C&h=H is the VGG lesson.
	r.Get("/vgg", h.vgg)
	// GET /googlenet?sample=FILE&in=..&h=..&c1=.. is the GoogLeNet lesson.
	r.Get("/googlenet", h.googlenet)
	// GET /resnet?sample=FILE is the ResNet lesson.
	r.Get("/resnet", h.resnet)
	// GET /mobilenet?sample=FILE&alpha=A&side=S is the MobileNet lesson.
	r.Get("/mobilenet", h.mobilenet)
	// GET /evaluation is the results table; ?measure=1 times each model.
	r.Get("/evaluation", h.evaluation)
	// GET /lenet?sample=FILE is the LeNet lesson.
	r.Get("/lenet", h.lenet)
	// GET /convnext?sample=FILE is the ConvNeXt lesson.
	r.Get("/convnext", h.convnext)
	return r
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Index().Render(r.Context(), w)
}

func (h *Handler) basics(w http.ResponseWriter, r *http.Request) {
	v, err := h.basicsView(r.URL.Query().Get("sample"), r.URL.Query().Get("map"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Basics(v).Render(r.Context(), w)
}

func (h *Handler) mobilenet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v, err := h.mobilenetView(q.Get("sample"), q.Get("alpha"), q.Get("side"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = MobileNet(v).Render(r.Context(), w)
}

func (h *Handler) vgg(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v, err := h.vggView(q.Get("sample"), q.Get("c"), q.Get("h"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = VGG(v).Render(r.Context(), w)
}

func (h *Handler) resnet(w http.ResponseWriter, r *http.Request) {
	v, err := h.resnetView(i18n.Of(r.Context()), r.URL.Query().Get("sample"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = ResNet(v).Render(r.Context(), w)
}

func (h *Handler) googlenet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v, err := h.googlenetView(q.Get("sample"), q)
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = GoogLeNet(v).Render(r.Context(), w)
}

func (h *Handler) convnext(w http.ResponseWriter, r *http.Request) {
	v, err := h.convnextView(r.URL.Query().Get("sample"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = ConvNeXt(v).Render(r.Context(), w)
}

func (h *Handler) lenet(w http.ResponseWriter, r *http.Request) {
	v, err := h.lenetView(r.URL.Query().Get("sample"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = LeNet(v).Render(r.Context(), w)
}

func (h *Handler) evaluation(w http.ResponseWriter, r *http.Request) {
	v, err := h.evaluationView(r.URL.Query().Get("measure") != "")
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Evaluation(v).Render(r.Context(), w)
}

func (h *Handler) zfnet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v, err := h.zfnetView(q.Get("sample"), q.Get("layer"), q.Get("map"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = ZFNet(v).Render(r.Context(), w)
}

func (h *Handler) alexnet(w http.ResponseWriter, r *http.Request) {
	v, err := h.alexnetView(r.URL.Query().Get("sample"))
	if err != nil {
		layout.NotFound(w, r, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = AlexNet(v).Render(r.Context(), w)
}
