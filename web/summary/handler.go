package summary

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/web/catalog"
)

// Models opens catalog models.
type Models interface {
	Open(name string) (*catalog.Model, error)
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
	// GET / is the layer table of the default model.
	r.Get("/", h.page)
	// GET /{name} is the layer table of model name.
	r.Get("/{name}", h.page)
	return r
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	m, err := h.models.Open(chi.URLParam(r, "name"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Page(m).Render(r.Context(), w)
}
