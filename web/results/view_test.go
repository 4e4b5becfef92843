package results

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
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
	// Each row carries its run's length and speed, from the checkpoint.
	for _, e := range trained(c) {
		i := strings.Index(html, `data-model="`+e.Name+`"`)
		row := html[i : i+strings.Index(html[i:], "</tr>")]
		for _, want := range []string{
			`data-testid="results-epochs">` + strconv.Itoa(e.Epochs) + `<`,
			`data-testid="results-wall">` + e.WallTime + `<`,
			`data-testid="results-speed">` + fmt.Sprintf("%.0f", e.TrainImagesPerS) + `<`,
		} {
			if e.Epochs == 0 || e.WallTime == "" || e.TrainImagesPerS == 0 || !strings.Contains(row, want) {
				t.Errorf("%s: row lacks %s: %s", e.Name, want, row)
			}
		}
	}
	if !strings.Contains(html, ">61,706<") {
		t.Error("LeNet-5's parameter count is not printed with thousands separators")
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

// A row without a dataset says so rather than printing nothing.
func TestRowWithoutDataset(t *testing.T) {
	c, err := catalog.Untrained("resnet20_b", 1)
	if err != nil {
		t.Fatal(err)
	}
	e, s, err := c.Summary("")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Page([]Row{{Entry: e, Summary: s}}).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<td>none (untrained, no dataset)</td>") {
		t.Errorf("the row does not say it has no dataset:\n%s", b.String())
	}
}

// The table reads in either language, its links keeping an explicit one.
func TestResultsInVietnamese(t *testing.T) {
	c, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	i18n.Middleware(New(c).Routes()).ServeHTTP(rec, httptest.NewRequest("GET", "/?lang=vi", nil))
	html := rec.Body.String()
	for _, want := range []string{`<html lang="vi">`, "<h1>" + i18n.Message(i18n.Vietnamese, "results.h1") + "</h1>",
		i18n.Message(i18n.Vietnamese, "results.th.accuracy"), `href="/?lang=vi&amp;model=lenet5-fashion-mnist"`} {
		if !strings.Contains(html, want) {
			t.Errorf("the Vietnamese table lacks %q", want)
		}
	}
}
