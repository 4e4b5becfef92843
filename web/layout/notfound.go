package layout

import "net/http"

// NotFound answers 404 with the site's own page (NotFoundPage), saying
// message ("unknown model \"nope\"") inside the usual header and links.
func NotFound(w http.ResponseWriter, r *http.Request, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_ = NotFoundPage(message).Render(r.Context(), w)
}
