package layout

import (
	"context"
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
