// Package learn is the web room of the lessons (/learn): one page per
// section of the seed tutorial, in its order, each explaining one idea in
// a few paragraphs (the text from package i18n, in English or Vietnamese)
// above the running engine's own numbers for a picture the reader picks.
package learn

import (
	"image"
	"net/http"
	"slices"

	"github.com/a-h/templ"
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

// Routes mounts the room: the index, and each lesson's page, whose view
// is read from the query (the reader's picture, and the lesson's own
// choices).
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	q := func(r *http.Request, name string) string { return r.URL.Query().Get(name) }
	// GET / lists the lessons.
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = Index().Render(r.Context(), w)
	})
	// GET /basics?sample=FILE&map=C is the first lesson on a picture.
	r.Get("/basics", serve(func(r *http.Request) (BasicsView, error) { return h.basicsView(q(r, "sample"), q(r, "map")) }, Basics))
	// GET /lenet?sample=FILE is the LeNet lesson.
	r.Get("/lenet", serve(func(r *http.Request) (LeNetView, error) { return h.lenetView(q(r, "sample")) }, LeNet))
	// GET /alexnet?sample=FILE is the AlexNet lesson.
	r.Get("/alexnet", serve(func(r *http.Request) (AlexNetView, error) { return h.alexnetView(q(r, "sample")) }, AlexNet))
	// GET /zfnet?sample=FILE&layer=L&map=C is the ZFNet lesson.
	r.Get("/zfnet", serve(func(r *http.Request) (ZFNetView, error) {
		return h.zfnetView(q(r, "sample"), q(r, "layer"), q(r, "map"))
	}, ZFNet))
	// GET /vgg?sample=FILE&c=C&h=H is the VGG lesson.
	r.Get("/vgg", serve(func(r *http.Request) (VGGView, error) { return h.vggView(q(r, "sample"), q(r, "c"), q(r, "h")) }, VGG))
	// GET /googlenet?sample=FILE&in=..&h=..&c1=.. is the GoogLeNet lesson.
	r.Get("/googlenet", serve(func(r *http.Request) (GoogLeNetView, error) {
		return h.googlenetView(q(r, "sample"), r.URL.Query())
	}, GoogLeNet))
	// GET /resnet?sample=FILE is the ResNet lesson.
	r.Get("/resnet", serve(func(r *http.Request) (ResNetView, error) {
		return h.resnetView(i18n.Of(r.Context()), q(r, "sample"))
	}, ResNet))
	// GET /mobilenet?sample=FILE&alpha=A&side=S is the MobileNet lesson.
	r.Get("/mobilenet", serve(func(r *http.Request) (MobileNetView, error) {
		return h.mobilenetView(q(r, "sample"), q(r, "alpha"), q(r, "side"))
	}, MobileNet))
	// GET /convnext?sample=FILE is the ConvNeXt lesson.
	r.Get("/convnext", serve(func(r *http.Request) (ConvNeXtView, error) { return h.convnextView(q(r, "sample")) }, ConvNeXt))
	// GET /unit?model=&sample=&layer=&channel=&y=&x= is how one unit of a
	// lesson's maps was computed (JSON, UnitAnswer).
	r.Get("/unit", h.unit)
	// GET /evaluation is the results table; ?measure=1 times each model.
	r.Get("/evaluation", serve(func(r *http.Request) (EvaluationView, error) {
		return h.evaluationView(q(r, "measure") != "")
	}, Evaluation))
	return r
}

// serve answers a page: its view made from the request and rendered, or
// the error on the site's own not-found page.
func serve[V any](view func(*http.Request) (V, error), page func(V) templ.Component) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := view(r)
		if err != nil {
			layout.NotFound(w, r, err.Error())
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page(v).Render(r.Context(), w)
	}
}
