// Package results is the web room of the results table: every trained
// checkpoint the server embeds, with its cost and its measured accuracy
// (the same figures as docs/RESULTS.md).
package results

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/zoo"
)

// Models lists catalog models and their summaries.
type Models interface {
	Entries() []catalog.Entry
	Summary(name string) (catalog.Entry, *zoo.Summary, error)
}

// Handler serves the results page.
type Handler struct{ models Models }

// New makes the results page handler.
func New(models Models) *Handler { return &Handler{models: models} }

// Routes mounts the room.
func (h *Handler) Routes() chi.Router {
	r := chi.NewRouter()
	// GET / is the table of trained models.
	r.Get("/", h.page)
	return r
}

// Row is one trained model with its summary.
type Row struct {
	catalog.Entry
	Summary *zoo.Summary
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	var rows []Row
	for _, e := range h.models.Entries() {
		if !e.Trained {
			continue
		}
		_, s, err := h.models.Summary(e.Name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		rows = append(rows, Row{e, s})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = Page(rows).Render(r.Context(), w)
}
