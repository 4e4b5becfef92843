package training

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/catalog"
)

// The architecture lab: one form starts two runs of the same recipe that
// differ only in their changes (Figure 6's first layers on AlexNet-small),
// the page shows them side by side with their first filters judged, and
// each kept checkpoint rebuilds its own variant in the explorer's menu.
func TestLabTrainsTwoVariantsSideBySide(t *testing.T) {
	needFashionMNIST(t)
	if raceDetector {
		t.Skip("ten times slower under -race")
	}
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(t.TempDir(), "", cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(New(m, "", nil).Routes())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(form url.Values) string {
		t.Helper()
		res, err := client.PostForm(srv.URL+"/runs", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.QueryUnescape(res.Header.Get("Location"))
		return loc
	}
	lab := url.Values{"model": {"alexnet_small"}, "data": {"fashion-mnist"}, "epochs": {"1"}, "limit": {"320"}, "lab": {"1"},
		"variant": {"features.0=11x11/4, -features.2"}, "variant_b": {"features.0=7x7/2,-features.2"}}
	for change, want := range map[string]string{
		"features.0=11x11/4,-features.2": "other changes than the first",
		"features.0=11x11/4":             "features.",
		"no-bm":                          "no-bm",
	} {
		form := url.Values{}
		for k, v := range lab {
			form[k] = v
		}
		form.Set("variant_b", change)
		if loc := post(form); !strings.Contains(loc, "problem=") || !strings.Contains(loc, want) {
			t.Errorf("second run %q: %q, want a problem saying %q", change, loc, want)
		}
	}
	if n := len(m.Runs()); n != 0 {
		t.Fatalf("%d runs started from refused forms", n)
	}
	loc := post(lab)
	u, err := url.Parse(loc)
	if err != nil || u.Path != "/train/compare" {
		t.Fatalf("the lab's form leads to %q, want the comparison", loc)
	}
	a, okA := m.Run(u.Query().Get("a"))
	b, okB := m.Run(u.Query().Get("b"))
	if !okA || !okB {
		t.Fatalf("runs of %q not found", loc)
	}
	ra, rb := a.Recipe, b.Recipe
	if ra.Variant != "features.0=11x11/4/5,-features.2" || rb.Variant != "features.0=7x7/2/3,-features.2" {
		t.Errorf("variants %q and %q", ra.Variant, rb.Variant)
	}
	rb.Variant = ra.Variant
	if !reflect.DeepEqual(ra, rb) {
		t.Errorf("the two recipes differ in more than their variants:\n%+v\n%+v", a.Recipe, b.Recipe)
	}
	waitFor(t, a, Finished)
	waitFor(t, b, Finished)
	for run, want := range map[*Run][]int{a: {32, 1, 11, 11}, b: {32, 1, 7, 7}} {
		_, _, result := run.Status()
		opened, err := cat.Open(result)
		if err != nil {
			t.Fatal(err)
		}
		if opened.Variant != run.Recipe.Variant || opened.Net.Variant != run.Recipe.Variant {
			t.Errorf("%s opens as variant %q (card %q), want %q", result, opened.Net.Variant, opened.Variant, run.Recipe.Variant)
		}
		if w := opened.Net.Net.State()["features.0.weight"]; !slices.Equal(w.Shape, want) {
			t.Errorf("%s: first filters %v, want %v", result, w.Shape, want)
		}
		cat.Release(opened)
	}
	res, err := http.Get(srv.URL + "/compare?" + u.RawQuery) // the room is mounted at /train

	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(body)
	for _, want := range []string{`data-testid="compare-filter-row"`, "32 of 11x11, stride 4", "32 of 7x7, stride 2",
		"(on 1000 pictures)", "[features.0=11x11/4/5,-features.2]", `data-testid="compare-filter-figure"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the comparison does not show %q", want)
		}
	}
	if strings.Contains(page, `data-testid="compare-unfinished"`) {
		t.Error("the comparison of two finished runs says one is unfinished")
	}
}
