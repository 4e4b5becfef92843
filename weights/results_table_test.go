package weights

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Every embedded checkpoint has its row in docs/RESULTS.md, and the row's
// epochs, wall time, speed and accuracy are the checkpoint's own (metadata
// and index.json): the doc, the results page and the binary tell one story.
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
	es, err := Index()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		found := rows[e.Model+" "+e.Dataset]
		if len(found) != 1 {
			t.Errorf("%s: %d rows for %s on %s in docs/RESULTS.md, want 1", e.File, len(found), e.Model, e.Dataset)
			continue
		}
		row := found[0]
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
