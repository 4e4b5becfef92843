package experiments

import (
	"strings"
	"testing"
)

// Figure 5's page: five pictures by default, one chart per layer and one
// of the probability, each an inline SVG with a line per picture; the
// choices come from the URL, and a second visit is served the same charts.
func TestInvariancePage(t *testing.T) {
	h, srv, _ := room(t)
	body := get(t, srv.URL+"/invariance?model=lenet5-untrained&kind=scale")
	if n := strings.Count(body, `data-testid="invariance-chart"`); n != 3 {
		t.Fatalf("%d charts, want 3 (c1, the last hidden layer, the probability)", n)
	}
	if n := strings.Count(body, "<svg"); n != 3 {
		t.Errorf("%d SVGs", n)
	}
	if n := strings.Count(body, `name="samples" value="`) - strings.Count(body, `checked`); n < 0 || strings.Count(body, "checked") != 5 {
		t.Errorf("%d pictures checked, want 5", strings.Count(body, "checked"))
	}
	if !strings.Contains(body, `<option value="scale" selected>`) || !strings.Contains(body, "scale factor") {
		t.Error("the scale sweep is not what was drawn")
	}
	body = get(t, srv.URL+"/invariance?model=lenet5-untrained&kind=rotate&layers=c3&layers=f6&samples=00-ankle-boot.png&samples=08-sneaker.png")
	if !strings.Contains(body, "c3 of lenet5-untrained") || !strings.Contains(body, "f6 of lenet5-untrained") || strings.Count(body, "checked") != 2 {
		t.Errorf("the chosen layers and pictures were not measured")
	}
	if len(h.charts.keys) != 2 {
		t.Errorf("%d chart sets kept", len(h.charts.keys))
	}
	get(t, srv.URL+"/invariance?model=lenet5-untrained&kind=scale")
	if len(h.charts.keys) != 2 {
		t.Errorf("a second visit drew again: %d chart sets", len(h.charts.keys))
	}
	svg := get(t, srv.URL+"/invariance/chart.svg?model=lenet5-untrained&kind=scale&chart=2")
	if !strings.HasPrefix(strings.TrimSpace(svg), "<svg") || !strings.Contains(svg, "probability of the true class") || len(h.charts.keys) != 2 {
		t.Errorf("the probability chart as a file: %.80q", svg)
	}
}
