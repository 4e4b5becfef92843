package results

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/catalog"
)

func TestResultsListTrainedModels(t *testing.T) {
	c, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c.AddZoo()
	rec := httptest.NewRecorder()
	New(c).Routes().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	html := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(html, `data-testid="results-table"`) {
		t.Fatalf("%d %s", rec.Code, html)
	}
	if n := strings.Count(html, `data-testid="results-row"`); n != len(trained(c)) {
		t.Errorf("%d rows, want one per trained model (%d)", n, len(trained(c)))
	}
	if !strings.Contains(html, `data-model="lenet5-fashion-mnist"`) || strings.Contains(html, `data-model="vgg16"`) {
		t.Error("the table must list trained models only")
	}
	var b strings.Builder
	if err := Page(nil).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}

func trained(c *catalog.Catalog) []catalog.Entry {
	var out []catalog.Entry
	for _, e := range c.Entries() {
		if e.Trained {
			out = append(out, e)
		}
	}
	return out
}
