package summary

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/layout"
	"github.com/convscope/convscope/zoo"
)

// Models lists catalog models and their summaries. Summary answers an
// unknown name with a zero Entry and an error.
type Models interface {
	Entries() []catalog.Entry
	Summary(name string) (catalog.Entry, *zoo.Summary, error)
}

// Handler serves the model page.
type Handler struct {
	models Models
}

// New makes the model page handler.
func New(models Models) *Handler { return &Handler{models: models} }

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// GET / lists every model: the trained ones first, then the zoo.
	r.Get("/", h.index)
	// GET /{name} is the layer table of model name.
	r.Get("/{name}", h.page)
	return r
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	e, s, err := h.models.Summary(chi.URLParam(r, "name"))
	if err != nil && e.Name == "" {
		layout.NotFound(w, r, err.Error())
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Page(e, s).Render(r.Context(), w)
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Index(h.models.Entries()).Render(r.Context(), w)
}
