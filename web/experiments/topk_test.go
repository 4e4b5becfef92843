package experiments

import (
	"context"
	"encoding/json"
	"image/png"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/experiment"
	"github.com/convscope/convscope/static"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/samples"
)

func needFashionMNIST(t *testing.T) {
	t.Helper()
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
}

// room is the experiments room over an untrained LeNet-5 labelled as
// Fashion-MNIST's, caching in a temporary directory.
func room(t *testing.T) (*Handler, *httptest.Server, *catalog.Catalog) {
	t.Helper()
	cat, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	h := New(cat, samples.New(sampleFS(t)), "", t.TempDir())
	srv := httptest.NewServer(h.Routes())
	t.Cleanup(srv.Close)
	return h, srv, cat
}

func post(t *testing.T, u string) (Status, int) {
	t.Helper()
	res, err := http.Post(u, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st Status
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st, res.StatusCode
}

// A scan asked for over HTTP runs in the background, reports progress,
// and gives what the scan itself gives; then it is read from the cache,
// and each channel's figure is a PNG.
func TestScanOverHTTP(t *testing.T) {
	needFashionMNIST(t)
	_, srv, cat := room(t)
	q := url.Values{"model": {"lenet5-untrained"}, "layer": {"c3"}, "split": {"test"}}.Encode()
	st, code := post(t, srv.URL+"/topk/scan?"+q)
	if code != http.StatusOK || (st.State != "running" && st.State != "queued" && st.State != "done") || st.Total != 10000 {
		t.Fatalf("first status %d %+v", code, st)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for st.State != "done" {
		if st.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("scan: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
		st, _ = post(t, srv.URL+"/topk/scan?"+q)
	}
	if again, _ := post(t, srv.URL+"/topk/scan?"+q); again.State != "done" || !again.Cached || again.Done != 10000 {
		t.Errorf("asked again: %+v", again)
	}
	res, err := http.Get(srv.URL + "/topk/scan.json?" + q)
	if err != nil {
		t.Fatal(err)
	}
	var got experiment.TopK
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// The same scan, run here.
	m, err := cat.Open("lenet5-untrained")
	if err != nil {
		t.Fatal(err)
	}
	set, err := data.OpenImages("fashion-mnist", "", false)
	if err != nil {
		t.Fatal(err)
	}
	set.Mean, set.Std = m.Pre.Mean, m.Pre.Std
	want, err := experiment.ScanTopK(context.Background(), m.Net.Net, "c3", set, experiment.ScanOptions{K: 9})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("the scan over HTTP differs from the scan run here")
	}
	res, err = http.Get(srv.URL + "/topk/channel.png?" + q + "&channel=15")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if img, err := png.Decode(res.Body); err != nil || res.StatusCode != http.StatusOK || img.Bounds().Dx() < 100 {
		t.Errorf("channel figure: %d %v", res.StatusCode, err)
	}
}

// Requests that cannot be answered get a status and a sentence.
func TestScanRefusals(t *testing.T) {
	needFashionMNIST(t)
	h, srv, _ := room(t)
	for _, c := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"POST", "/topk/scan?model=lenet5-untrained&layer=nope&split=test", 400, `no layer "nope"`},
		{"POST", "/topk/scan?model=lenet5-untrained&layer=c1&split=val", 400, `split "val"`},
		{"POST", "/topk/scan?model=vgg16&layer=c1&split=test", 400, "vgg16"},
		{"GET", "/topk/scan.json?model=lenet5-untrained&layer=c1&split=test", 409, "has not finished"},
		{"GET", "/topk/channel.png?model=lenet5-untrained&layer=c1&split=test&channel=0", 409, "has not finished"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]string
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != c.code || !strings.Contains(body["error"], c.want) {
			t.Errorf("%s %s: %d %q, want %d %q", c.method, c.path, res.StatusCode, body["error"], c.code, c.want)
		}
	}
	h.scans.MaxQueued = 0
	if st, code := post(t, srv.URL+"/topk/scan?model=lenet5-untrained&layer=c5&split=test"); code != http.StatusServiceUnavailable {
		t.Errorf("a full queue: %d %+v", code, st)
	}
}

// The page offers the models with a dataset, the layers with maps, and
// names the scan it will start; the index links to it.
func TestTopKPage(t *testing.T) {
	needFashionMNIST(t)
	_, srv, _ := room(t)
	body := get(t, srv.URL+"/topk?model=lenet5-untrained&layer=s2")
	for _, want := range []string{`data-model="lenet5-untrained"`, `data-layer="s2"`, `data-split="test"`, `<option value="c3">`, `/static/js/topk.js`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if body := get(t, srv.URL+"/topk"); !strings.Contains(body, `data-layer="c3"`) {
		t.Error("the default layer is not LeNet-5's second convolution")
	}
	if body := get(t, srv.URL+"/"); !strings.Contains(body, `href="/experiments/topk"`) {
		t.Error("the index does not link to the top-k page")
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
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
	return b.String()
}

// sampleFS is the embedded sample pictures.
func sampleFS(t *testing.T) fs.FS {
	t.Helper()
	f, err := fs.Sub(static.FS, "samples")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Replicas behind a proxy that share the cache folder share their scans:
// a replica whose own copy of a scan is still running answers with the
// one another replica finished and wrote there.
func TestScanFinishedByAnotherReplica(t *testing.T) {
	needFashionMNIST(t)
	cat, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	here := NewScans(cat, &Sets{}, dir)
	req := ScanRequest{Model: "lenet5-untrained", Layer: "c3", Split: "test"}
	key, st, err := here.Start(req)
	if err != nil || st.State == "done" {
		t.Fatalf("start: %+v %v", st, err)
	}
	here.mu.Lock()
	job := here.jobs[key]
	here.mu.Unlock()
	defer func() { <-job.finished }() // its own copy, written to dir before the test removes it
	// The other replica's result, as it writes it (a scan of 10,000
	// pictures here takes far longer than this).
	other := &experiment.TopK{Layer: "c3", K: key.K, Images: key.Images, Channels: []experiment.ChannelTop{{Channel: 99}}}
	if err := experiment.SaveScan(dir, key, other); err != nil {
		t.Fatal(err)
	}
	if _, st, _ := here.Start(req); st.State != "done" || !st.Cached {
		t.Errorf("asked again: %+v, want done from the cache", st)
	}
	if got, ok := here.Result(key); !ok || len(got.Channels) != 1 || got.Channels[0].Channel != 99 {
		t.Errorf("result: %v %+v, want the other replica's", ok, got)
	}
}
