package experiments

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/web/catalog"
)

// The sweep's stream ends with the whole result, the one
// experiment.Occlusion gives for the sample, and its figure as a PNG; the
// page names the stream; a square larger than the picture is refused.
func TestOcclusionStream(t *testing.T) {
	h, srv, cat := room(t)
	res, err := http.Get(srv.URL + "/occlusion/stream?model=lenet5-untrained&sample=04-shirt.png&layer=c3&window=8&stride=2")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var last frame
	lines := 0
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines++
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatal(err)
		}
	}
	if last.Error != "" || last.Result == nil || last.Done != 121 || last.Total != 121 {
		t.Fatalf("last of %d frames: done %d of %d, error %q", lines, last.Done, last.Total, last.Error)
	}
	m, err := cat.Open("lenet5-untrained")
	if err != nil {
		t.Fatal(err)
	}
	img, err := h.gallery.Open(catalog.GalleryFor(m.Entry), "04-shirt.png")
	if err != nil {
		t.Fatal(err)
	}
	_, x := m.Prepare(img)
	want, err := experiment.Occlusion(context.Background(), m.Net.Net, x, experiment.OcclusionOptions{Layer: "c3", Channel: -1, Label: 6, Window: 8, Stride: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := last.Result
	if got.Channel != want.Channel || got.Label != 6 || got.Rows != 11 || len(got.Activation) != 121 {
		t.Fatalf("channel %d label %d rows %d", got.Channel, got.Label, got.Rows)
	}
	for i := range want.Activation {
		if got.Activation[i] != want.Activation[i] || got.Probability[i] != want.Probability[i] || got.Predicted[i] != want.Predicted[i] {
			t.Fatalf("position %d differs from the sweep run here", i)
		}
	}
	data, ok := strings.CutPrefix(last.Figure, "data:image/png;base64,")
	b, err := base64.StdEncoding.DecodeString(data)
	if !ok || err != nil {
		t.Fatalf("figure: %v", err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Errorf("figure: %v", err)
	}
	if body := get(t, srv.URL+"/occlusion?model=lenet5-untrained&sample=04-shirt.png"); !strings.Contains(body, `data-stream="/experiments/occlusion/stream?model=lenet5-untrained&amp;sample=04-shirt.png&amp;layer=c3&amp;window=4&amp;stride=2"`) {
		t.Error("the page does not name its stream with the defaults")
	}
	res2, err := http.Get(srv.URL + "/occlusion/stream?model=lenet5-untrained&window=40")
	if err != nil {
		t.Fatal(err)
	}
	defer res2.Body.Close()
	var f frame
	_ = json.NewDecoder(res2.Body).Decode(&f)
	if res2.StatusCode != http.StatusBadRequest || !strings.Contains(f.Error, "window 40") {
		t.Errorf("a square larger than the picture: %d %q", res2.StatusCode, f.Error)
	}
}
