package summary

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/catalog"
)

func TestPageIsATorchinfoTable(t *testing.T) {
	cat, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cat.Open("")
	if err != nil {
		t.Fatal(err)
	}
	m.Command = "convscope train -model lenet5"
	var b strings.Builder
	if err := Page(m.Entry, m.Summary).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, id := range []string{"model-title", "model-facts", "model-command", "summary-table", "summary-row", "summary-totals"} {
		if !strings.Contains(html, `data-testid="`+id+`"`) {
			t.Errorf("page has no data-testid=%q", id)
		}
	}
	if n := strings.Count(html, `data-testid="summary-row"`); n != len(m.Summary.Layers) {
		t.Errorf("%d rows, want one per layer (%d)", n, len(m.Summary.Layers))
	}
	// LeNet-5's figures, as torchinfo prints them.
	for _, want := range []string{
		`data-layer="c1"`, "[1, 6, 28, 28]", "156", "117,600", "[1, 16, 10, 10]", "2,416", "240,000",
		"14×14", "[1, 10]", "Total params: 61,706", "Total mult-adds (M): 0.42", "untrained",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// The index lists the trained models and then the whole zoo, each row
// saying whether its weights are trained.
func TestIndexListsTheZoo(t *testing.T) {
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cat.AddZoo()
	var b strings.Builder
	if err := Index(cat.Entries()).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{`data-model="lenet5-fashion-mnist" data-trained="true"`, `data-model="vgg16" data-trained="false"`,
		`data-model="convnext_tiny" data-trained="false"`, "untrained (random initialisation)", "trained, 91.29% test accuracy"} {
		if !strings.Contains(html, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	if strings.Contains(html, `data-model="lenet5" `) {
		t.Error("the zoo's lenet5 is listed beside its trained checkpoint")
	}
	// A big model's summary is computed without keeping its weights.
	e, s, err := cat.Summary("resnet50")
	if err != nil || e.Trained || s.Params != 25557032 {
		t.Errorf("resnet50: trained %v, %d params, %v", e.Trained, s.Params, err)
	}
}

// A CIFAR-shaped untrained network has no dataset, and says so.
func TestPageSaysWhenThereIsNoDataset(t *testing.T) {
	cat, err := catalog.Untrained("resnet20_b", 1)
	if err != nil {
		t.Fatal(err)
	}
	e, s, err := cat.Summary("")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Page(e, s).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if want := `data-testid="model-dataset">none (untrained, no dataset)<`; !strings.Contains(b.String(), want) {
		t.Errorf("page lacks %q", want)
	}
}

// An unknown model is the site's own 404 page; an architecture's name finds
// its entry.
func TestUnknownModelIsTheSite404(t *testing.T) {
	cat, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	h := New(cat).Routes()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	html := rec.Body.String()
	if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(html, `data-testid="topbar"`) || !strings.Contains(html, "unknown model &#34;nope&#34;") {
		t.Errorf("GET /nope: %d %q\n%s", rec.Code, rec.Header().Get("Content-Type"), html)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/lenet5", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="model-title">lenet5-untrained<`) {
		t.Errorf("GET /lenet5: %d", rec.Code)
	}
}
