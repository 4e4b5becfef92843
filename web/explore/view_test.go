package explore

import (
	"context"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
)

func render(t *testing.T, v View) string {
	t.Helper()
	var b strings.Builder
	if err := Page(v).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func entry(name string) catalog.Entry {
	return catalog.Entry{Name: name, Model: "lenet5", Input: []int{1, 28, 28}, Dataset: "fashion-mnist",
		Classes: catalog.FashionMNIST, Trained: true, TestAccuracy: 0.9012}
}

func TestPageHasEveryPart(t *testing.T) {
	v := View{Model: entry("lenet5-fashion-mnist"), Models: []catalog.Entry{entry("lenet5-fashion-mnist")},
		Samples: []samples.Sample{{Dataset: "fashion-mnist", File: "07-sneaker.png", Label: "Sneaker"}}}
	html := render(t, v)
	for _, id := range []string{"app", "model-card", "model-name", "model-link", "input-canvas", "input-note",
		"gallery", "sample", "top5", "all-classes", "draw-canvas", "draw-run", "draw-clear", "upload-input", "upload-status",
		"probs", "prob", "layers", "projection-panel", "projection-map", "projection-input",
		"projection-image", "projection-info", "projection-legend", "status", "nav-explore", "nav-model"} {
		if !strings.Contains(html, `data-testid="`+id+`"`) {
			t.Errorf("page has no data-testid=%q", id)
		}
	}
	for _, want := range []string{
		`data-model="lenet5-fashion-mnist"`, `data-ws="/ws"`, `data-upload="/upload"`,
		`data-sample="fashion-mnist/07-sneaker.png"`, `src="/samples/fashion-mnist/07-sneaker.png"`,
		`<script type="module" src="/static/js/main.js">`, "90.1% test accuracy", "Ankle boot",
		`aria-current="page" data-testid="nav-explore"`, `role="status" aria-live="polite"`, `<label for="upload-input">`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(html, `data-testid="prob"`); n != 10 {
		t.Errorf("%d probability rows, want 10", n)
	}
	if strings.Contains(html, "model-select") {
		t.Error("a one-model catalog shows a selector")
	}
}

// A CIFAR-shaped zoo model has no dataset and says so, rather than
// borrowing Fashion-MNIST's classes.
func TestPageWithoutDataset(t *testing.T) {
	e := catalog.Entry{Name: "resnet56", Model: "resnet56", Input: []int{3, 32, 32}, Classes: []string{"class 0", "class 1"}}
	html := render(t, View{Model: e, Models: []catalog.Entry{e}})
	if !strings.Contains(html, "no dataset: its classes are only numbered") || strings.Contains(html, "Ankle boot") {
		t.Error("a model without a dataset does not say so")
	}
}

func TestPageVariants(t *testing.T) {
	a, b := entry("a"), entry("b")
	b.Trained = false
	html := render(t, View{Model: b, Models: []catalog.Entry{a, b}})
	for _, want := range []string{`data-testid="model-select"`, `<option value="b" selected>`, `data-testid="gallery-empty"`, "untrained"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
