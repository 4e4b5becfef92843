package summary

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// checkWords fails for each of want missing from html and each of unwanted
// in it.
func checkWords(t *testing.T, page, html string, want, unwanted []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(html, w) {
			t.Errorf("%s lacks %q", page, w)
		}
	}
	for _, w := range unwanted {
		if strings.Contains(html, w) {
			t.Errorf("%s still reads %q", page, w)
		}
	}
}

// The model page reads in Vietnamese: its facts, the layer table's
// headings, toggles, receptive fields and totals, and the zoo's
// description of the architecture; its links keep ?lang=.
func TestPageInVietnamese(t *testing.T) {
	m, err := zoo.Build("resnet20", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := zoo.Summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("/model/resnet20?lang=vi")
	ctx := i18n.With(context.Background(), i18n.Vietnamese, true, u)
	var b strings.Builder
	if err := Page(catalog.Entry{Name: "resnet20", Model: "resnet20"}, s).Render(ctx, &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	checkWords(t, "the model page", html,
		[]string{"<title>Mô hình resnet20 · convscope</title>", "<dt>kiến trúc</dt>", "ResNet-20 cho CIFAR (3 tầng x 3 khối cơ bản", "<dt>tập dữ liệu</dt>",
			"không có (chưa huấn luyện, không có tập dữ liệu)", "chưa huấn luyện (khởi tạo ngẫu nhiên)", "Khám phá mô hình này →",
			`href="/?lang=vi&amp;model=resnet20"`, ">mở tất cả<", ">đóng tất cả<", "<th>Lớp (loại)</th>", "Trường tiếp nhận</th>",
			`aria-label="mở layer1.0: 8 lớp bên trong"`, `data-open-label="mở layer1.0: 8 lớp bên trong"`, `data-close-label="đóng layer1.0: 8 lớp bên trong"`,
			`<td class="num">toàn bộ đầu vào</td>`, "Tổng số tham số: 269,722", "Tổng số phép nhân-cộng (triệu): 40.55", "nhánh shortcut của layer1.0"},
		[]string{"<dt>architecture</dt>", "CIFAR ResNet-20", "none (untrained", "random initialisation", "Explore this model", ">open all<",
			"Layer (type)", "Output Shape", "layers inside", "whole input", "Total params", "which runs beside"})

	// LeNet-5's C3 branches are numbered: "branch 3" in English, "nhánh 3".
	m, err = zoo.Build("lenet5_1998", nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s, err = zoo.Summarize(m); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ctx  context.Context
		want string
	}{{ctx, `data-testid="branch-tag">nhánh 3</span>`}, {context.Background(), `data-testid="branch-tag">branch 3</span>`}} {
		b.Reset()
		if err := Page(catalog.Entry{Name: "lenet5_1998", Model: "lenet5_1998"}, s).Render(c.ctx, &b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("LeNet-5 (1998) lacks %s", c.want)
		}
	}
}

// The index of models reads in Vietnamese through the handler, chosen by
// ?lang= or by the browser; English stays the default.
func TestIndexInVietnamese(t *testing.T) {
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cat.AddZoo()
	h := i18n.Middleware(New(cat).Routes())
	get := func(target, accept string) string {
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("Accept-Language", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", target, rec.Code)
		}
		return rec.Body.String()
	}
	vi := get("/?lang=vi", "")
	checkWords(t, "the index", vi,
		[]string{"<h1>Các mô hình</h1>", "<th>kiến trúc</th>", "<th>trọng số</th>", "đã huấn luyện, độ chính xác kiểm tra 91.29%",
			"chưa huấn luyện (khởi tạo ngẫu nhiên)", "VGG-16 (cấu hình D của bài báo)", `href="/model/vgg16?lang=vi"`},
		[]string{"<h1>Models</h1>", "<th>architecture</th>", "trained, 91.29% test accuracy", "untrained (random initialisation)", "configuration D"})
	if html := get("/", "vi,en;q=0.5"); !strings.Contains(html, "<h1>Các mô hình</h1>") || strings.Contains(html, "/model/vgg16?lang=vi") {
		t.Error("Accept-Language: vi does not give the index in Vietnamese, or pins the language in its links")
	}
	checkWords(t, "the English index", get("/", ""),
		[]string{"<h1>Models</h1>", "trained, 91.29% test accuracy", "VGG-16 (configuration D of the paper)"}, []string{"Các mô hình"})
}

// Every description in the catalogues is of a model of the zoo, and says
// what the zoo says in English.
func TestDescriptionsNameZooModels(t *testing.T) {
	for _, k := range i18n.Keys(i18n.English) {
		name, ok := strings.CutPrefix(k, "model.zoo.")
		if !ok {
			continue
		}
		f, err := zoo.Lookup(name)
		if err != nil {
			t.Errorf("%s describes no model of the zoo", k)
			continue
		}
		if got := i18n.Message(i18n.English, k); got != f.Description {
			t.Errorf("%s reads %q, the zoo %q", k, got, f.Description)
		}
	}
}
