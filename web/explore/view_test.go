package explore

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
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
		`data-model="lenet5-fashion-mnist"`, `data-ws="/ws"`,
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

// The page reads in Vietnamese when the request chose it: the labels come
// from the catalogue, and the English ones are gone.
func TestPageInVietnamese(t *testing.T) {
	u, _ := url.Parse("/?lang=vi")
	ctx := i18n.With(context.Background(), i18n.Vietnamese, true, u)
	v := View{Model: entry("lenet5-fashion-mnist"), Models: []catalog.Entry{entry("lenet5-fashion-mnist"), entry("b")},
		Samples: []samples.Sample{{Dataset: "fashion-mnist", File: "07-sneaker.png", Label: "Sneaker"}}}
	var b strings.Builder
	if err := Page(v).Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{
		"Khám phá lenet5-fashion-mnist", "Đầu vào", "Ảnh mẫu", "Chạy hình vẽ", "Dùng camera", "Tải lên", "Dự đoán",
		"cả 10 lớp", "huấn luyện trên fashion-mnist, độ chính xác kiểm tra 90.1%", "Chiếu về điểm ảnh", "Phương pháp",
		"Che khuất (Zeiler &amp; Fergus)", "So sánh mọi phương pháp", "Mô hình của riêng bạn", `aria-label="chạy ảnh mẫu: Sneaker"`,
		"<code>-allow-model-upload</code>", `href="/model/lenet5-fashion-mnist?lang=vi"`, `<input type="hidden" name="lang" value="vi">`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the Vietnamese page lacks %q", want)
		}
	}
	for _, english := range []string{
		">Input", ">Samples<", "Run drawing", "Use the camera", ">Upload<", ">Prediction", "all 10 classes", "test accuracy",
		"Projection to pixels", ">Method<", "Compare all methods", "Your own model", "run sample:", "Occlusion",
		"Each layer's feature maps", "receptive field",
	} {
		if strings.Contains(html, english) {
			t.Errorf("the Vietnamese page still reads %q", english)
		}
	}
}

// Every attribution method has its menu label and description in the
// catalogues, the English description being deconv's own.
func TestMethodsInTheCatalogues(t *testing.T) {
	vi := i18n.With(context.Background(), i18n.Vietnamese, true, nil)
	for _, m := range deconv.Methods() {
		k, ok := methodKeys[m.Name()]
		if !ok {
			t.Errorf("method %s has no catalogue keys", m.Name())
			continue
		}
		if got := i18n.Message(i18n.English, k.about); got != m.About() {
			t.Errorf("%s: the catalogue says %q, deconv %q", k.about, got, m.About())
		}
		if methodTitle(vi, m.Name()) == k.title || methodAbout(vi, m) == m.About() {
			t.Errorf("%s is not in Vietnamese", m.Name())
		}
	}
}
