package layout

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func TestPageShell(t *testing.T) {
	var b strings.Builder
	child := templ.Raw(`<main data-testid="child">x</main>`)
	ctx := templ.WithChildren(context.Background(), child)
	if err := Page("Hello", ModelTable).Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		"<!doctype html>", "<title>Hello · convscope</title>", `href="/static/css/app.css"`,
		`data-testid="topbar"`, `data-testid="child"`, `aria-current="page" data-testid="nav-model"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("shell lacks %q", want)
		}
	}
	if strings.Contains(html, `aria-current="page" data-testid="nav-explore"`) {
		t.Error("two current pages")
	}
}

func TestNotFound(t *testing.T) {
	rec := httptest.NewRecorder()
	NotFound(rec, httptest.NewRequest("GET", "/nope", nil), `unknown model "<nope>"`)
	if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	html := rec.Body.String()
	for _, want := range []string{
		"<title>Not found · convscope</title>", `data-testid="topbar"`, `data-testid="not-found"`,
		`unknown model &#34;&lt;nope&gt;&#34;`, `<a href="/">`, `<a href="/model">`, `<a href="/results">`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the 404 page lacks %q", want)
		}
	}
	if strings.Contains(html, `aria-current="page"`) {
		t.Error("the 404 page marks a current page")
	}
}
