package weights

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/convscope/convscope/zoo"
)

// Every embedded checkpoint has its row in docs/RESULTS.md, and the row's
// size, epochs, wall time, speed and accuracy are the checkpoint's own
// (its model's summary, metadata and index.json), as is the parameter count
// MODELS.md gives: the docs, the results page and the binary tell one story.
func TestIndexMatchesResultsTable(t *testing.T) {
	b, err := os.ReadFile("../docs/RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	// | model | dataset | params | MACs | epochs | wall time | train img/s | test accuracy | command |
	rows := map[string][][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 11 || strings.TrimSpace(cells[1]) == "model" || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		key := cells[1] + " " + cells[2]
		rows[key] = append(rows[key], cells[1:])
	}
	models, err := os.ReadFile("MODELS.md")
	if err != nil {
		t.Fatal(err)
	}
	es, err := Index()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		m, err := Open(e)
		if err != nil {
			t.Fatal(err)
		}
		s, err := zoo.Summarize(m)
		if err != nil {
			t.Fatal(err)
		}
		params := zoo.Thousands(s.Params)
		section := modelsSection(string(models), e.File)
		if section == "" {
			t.Errorf("weights/MODELS.md has no section on %s", e.File)
		}
		for _, n := range parameterCounts.FindAllStringSubmatch(section, -1) {
			if n[1] != params {
				t.Errorf("weights/MODELS.md gives %s %s parameters; its model has %s", e.File, n[1], params)
			}
		}
		found := rows[e.Model+" "+e.Dataset]
		if len(found) != 1 {
			t.Errorf("%s: %d rows for %s on %s in docs/RESULTS.md, want 1", e.File, len(found), e.Model, e.Dataset)
			continue
		}
		row := found[0]
		if row[2] != params || row[3] != zoo.Thousands(s.MACs) {
			t.Errorf("%s: docs/RESULTS.md gives %s parameters and %s MACs, the model %s and %s", e.File, row[2], row[3], params, zoo.Thousands(s.MACs))
		}
		want := []string{fmt.Sprint(e.Epochs), e.WallTime, fmt.Sprintf("%.0f", e.TrainImagesPerS), fmt.Sprintf("%.4f", e.TestAccuracy)}
		for i, name := range []string{"epochs", "wall time", "train img/s", "test accuracy"} {
			if got := row[4+i]; got != want[i] {
				t.Errorf("%s: docs/RESULTS.md's %s is %s, the checkpoint's %s", e.File, name, got, want[i])
			}
		}
		if !strings.Contains(row[8], fmt.Sprintf("-epochs %d ", e.Epochs)) {
			t.Errorf("%s: the row's command does not train %d epochs: %s", e.File, e.Epochs, row[8])
		}
	}
}

// parameterCounts finds "61,706 parameters" in a text.
var parameterCounts = regexp.MustCompile(`([0-9][0-9,]*) parameters`)

// modelsSection is MODELS.md's section on file, up to the next section
// ("" where there is none).
func modelsSection(models, file string) string {
	_, section, ok := strings.Cut(models, "## "+file+"\n")
	if !ok {
		return ""
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	return section
}
