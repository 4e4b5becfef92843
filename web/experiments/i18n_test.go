package experiments

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/web/samples"
)

// roomIn is the room behind the language middleware, as the server mounts it.
func roomIn(t *testing.T) *httptest.Server {
	t.Helper()
	cat, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(i18n.Middleware(New(cat, samples.New(sampleFS(t)), "", t.TempDir()).Routes()))
	t.Cleanup(srv.Close)
	return srv
}

// checkWords fails for each of want missing from body and each of not in it.
func checkWords(t *testing.T, page, body string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", page, w)
		}
	}
	for _, w := range not {
		if strings.Contains(body, w) {
			t.Errorf("%s still reads %q", page, w)
		}
	}
}

// Chosen in the URL, the experiments read in Vietnamese, their links and
// forms keep the language, and none of the English labels is left.
func TestPagesInVietnamese(t *testing.T) {
	srv := roomIn(t)
	checkWords(t, "the index", get(t, srv.URL+"/?lang=vi"),
		[]string{`<html lang="vi">`, "Các thí nghiệm của Zeiler &amp; Fergus", "Bản đồ đặc trưng phản ứng với điều gì", "(Hình 8, Bảng 1)",
			`href="/experiments/occlusion?lang=vi"`},
		[]string{"experiments</h1>", "What a feature map responds to", "Figure 2", "Correspondence of parts", "Occlusion"})
	checkWords(t, "the filters", get(t, srv.URL+"/filters?model=lenet5-untrained&compare=lenet5-untrained&compareLayer=c5&lang=vi"),
		[]string{"Chính các bộ lọc", "6 bộ lọc 5x5 trên 1 kênh, bước 1", "c5 của lenet5-untrained", "So sánh với", "năng lượng tần số cao: trung bình",
			`<input type="hidden" name="lang" value="vi">`, `href="/experiments/filters?compare=zfnet&amp;lang=vi&amp;model=alexnet"`, "Chạy từ dòng lệnh:"},
		[]string{"The filters themselves", "filters of 5x5", "c5 of", "Compare with", "high-frequency energy", "From the command line", "Each filter's figures"})
	checkWords(t, "the invariance", get(t, srv.URL+"/invariance?model=lenet5-untrained&kind=scale&lang=vi"),
		[]string{"Tính bất biến với phép dịch, co giãn và xoay", "co giãn (từ 0.5 đến 1.5 lần)", "Lớp đầu", "hệ số co giãn", "xác suất của lớp đúng", "khoảng cách Euclid",
			"c1 của lenet5-untrained (khởi tạo ngẫu nhiên, seed 1)"},
		[]string{"Invariance to shifts", "Early layer", "scale factor", "probability of the true class", "Euclidean distance", "this chart as SVG", "random initialisation"})
	checkWords(t, "the occlusion", get(t, srv.URL+"/occlusion?model=lenet5-untrained&sample=04-shirt.png&window=99&lang=vi"),
		[]string{"Che khuất", "Trượt ô vuông", "ô vuông 99 và bước 49: mỗi giá trị phải từ 1 đến 28"},
		[]string{"Slide the square", "Square (pixels)", "want each from"})
	// The English page is still English, and the charts drawn for one
	// language are not shown in the other.
	checkWords(t, "the English invariance", get(t, srv.URL+"/invariance?model=lenet5-untrained&kind=scale"),
		[]string{"Invariance to shifts", "scale factor", "probability of the true class"},
		[]string{"hệ số co giãn", "xác suất"})
}

// The browser's language chooses Vietnamese when the URL does not; then
// links are left as they are.
func TestAcceptLanguageVietnamese(t *testing.T) {
	needFashionMNIST(t)
	srv := roomIn(t)
	req, _ := http.NewRequest("GET", srv.URL+"/correspondence?model=lenet5-untrained&box=20,20,40,40", nil)
	req.Header.Set("Accept-Language", "vi-VN,vi;q=0.9,en;q=0.5")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 1<<16)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	checkWords(t, "the correspondence", b.String(),
		[]string{"Sự tương ứng giữa các bộ phận", "Lớp đối tượng", `khung &#34;20,20,40,40&#34;: cần một khung rộng ít nhất một điểm ảnh, nằm trong bức ảnh 28x28`},
		[]string{"Correspondence of parts", "drag a box", "inside the 28x28 picture", "Measure"})
	body := get(t, srv.URL+"/correspondence?model=lenet5-untrained&class=7&layers=c3&lang=vi")
	checkWords(t, "the correspondence table", body,
		[]string{"Δ, khung ngẫu nhiên", "10 cặp ảnh; khung ngẫu nhiên: 10 lần thử", `aria-label="bộ phận trong ảnh kiểm tra`},
		[]string{"random boxes", "pairs of pictures", "the part in test picture"})
}

// Where weights come from reads in the chart's language; a source it does
// not know stays as it is.
func TestSourceText(t *testing.T) {
	vi := i18n.With(context.Background(), i18n.Vietnamese, true, nil)
	for source, want := range map[string]string{
		"random initialisation, seed 7":      "khởi tạo ngẫu nhiên, seed 7",
		"lenet5's weights after epoch 3":     "trọng số của lenet5 sau epoch 3",
		"embedded weights/lenet5-fmnist.bin": "weights/lenet5-fmnist.bin, nhúng sẵn",
		"file /tmp/x.ckpt":                   "file /tmp/x.ckpt",
	} {
		if got := sourceText(vi, source); got != want {
			t.Errorf("%q in Vietnamese: %q, want %q", source, got, want)
		}
		if got := sourceText(context.Background(), source); got != source {
			t.Errorf("%q in English: %q", source, got)
		}
	}
}
