package experiments

import (
	"image/png"
	"net/http"
	"strings"
	"testing"
)

// Figure 6's page: the model's first convolution by default, its figures
// (dead filters judged on the test images), its figure as a PNG, and a
// second model's panel when one is compared.
func TestFiltersPage(t *testing.T) {
	needFashionMNIST(t)
	_, srv, _ := room(t)
	body := get(t, srv.URL+"/filters?model=lenet5-untrained")
	for _, want := range []string{`data-layer="c1"`, "6 filters of 5x5 over 1 channels, stride 1", "never positive on 1000 test images",
		`src="/experiments/filters/figure.png?layer=c1&amp;model=lenet5-untrained"`, `<option value="c3">`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	body = get(t, srv.URL+"/filters?model=lenet5-untrained&layer=c3&compare=lenet5-untrained&compareLayer=c5")
	if n := strings.Count(body, `data-testid="filter-panel"`); n != 2 || !strings.Contains(body, `data-layer="c5"`) {
		t.Errorf("%d panels, c5's: %v", n, strings.Contains(body, `data-layer="c5"`))
	}
	if body := get(t, srv.URL+"/filters?model=lenet5-untrained&layer=s2"); !strings.Contains(body, `has no convolution &#34;s2&#34;`) {
		t.Error("a pooling layer's filters were drawn")
	}
	res, err := http.Get(srv.URL + "/filters/figure.png?model=lenet5-untrained&layer=c3")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if img, err := png.Decode(res.Body); err != nil || img.Bounds().Dy() < 16*9 {
		t.Errorf("figure: %v", err)
	}
}
