package web_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/convscope/convscope/web"
	"github.com/convscope/convscope/web/catalog"
)

// An ONNX export of a network that is not in the zoo (a residual block and
// three branches concatenated, tools/parity/onnx_export.py), given to the
// server as -models would, opens in the explorer: its residual block opens
// to its paths, a unit inside it projects, and the Inception-style block
// opens to its branches side by side.
func TestBrowserONNXModel(t *testing.T) {
	b := newBrowserWith(t, 1440, 1000, func(d *web.Deps) {
		if errs := d.Catalog.AddFiles([]catalog.File{{Path: "../onnx/testdata/branchy.onnx"}}); errs[0] != nil {
			t.Fatal(errs[0])
		}
	})
	b.do("load the ONNX model", chromedp.Navigate(b.url+"/?model=branchy&sample=photos%2F01-cat.png"), poll(doneJS), poll(readyJS))
	if note := b.text(`#model-note`); !strings.Contains(note, "weights from branchy.onnx") {
		t.Errorf("model note %q", note)
	}
	b.open("block")
	got := eval[string](b, `[...document.querySelectorAll('[data-block="block"] [data-testid="layer"]')].map((e) => e.dataset.name).join(' ')`)
	if want := "block.conv1 block.relu block.conv2 block.shortcut block.add block.relu_1"; got != want {
		t.Fatalf("block opens to %q, want %q", got, want)
	}
	b.clickMap("block.conv2", 2)
	b.projected("block.conv2", 2, "Deconvnet")
	b.open("incept")
	if cols := eval[string](b, `[...document.querySelectorAll('[data-block="incept"] [data-testid="branch"]')].map((e) => e.dataset.branch).join(' ')`); cols != "incept.branch1 incept.branch2 incept.branch3" {
		t.Fatalf("incept's columns %q", cols)
	}
	b.screenshot("onnx-branchy")
}

// A network that only a graph block holds (DenseNet-style reuse, a
// squeeze-and-excitation gate, a shortcut over both) opens to its nodes,
// each join saying what it reads, and a unit inside it projects.
func TestBrowserONNXGraph(t *testing.T) {
	b := newBrowserWith(t, 1440, 1000, func(d *web.Deps) {
		if errs := d.Catalog.AddFiles([]catalog.File{{Path: "../onnx/testdata/graphy.onnx"}}); errs[0] != nil {
			t.Fatal(errs[0])
		}
	})
	b.do("load the ONNX model", chromedp.Navigate(b.url+"/?model=graphy&sample=photos%2F02-coffee.png"), poll(doneJS), poll(readyJS))
	b.open("graph")
	if n := eval[int](b, `document.querySelectorAll('[data-block="graph"] [data-testid="layer"]').length`); n != 21 {
		t.Errorf("the graph opens to %d layers, want 21", n)
	}
	if from := b.text(`[data-name="se.mul"] [data-testid="layer-from"]`); from != "← Concat + se.sigmoid" {
		t.Errorf("the gate's product says %q", from)
	}
	b.clickMap("dense.1.conv", 1)
	b.projected("dense.1.conv", 1, "Deconvnet")
	b.screenshot("onnx-graph")
}

// With -allow-model-upload a visitor picks a file in the model card: it
// runs at once on the current picture, and its layers can be explored.
func TestBrowserUploadOwnModel(t *testing.T) {
	b := newBrowserWith(t, 1440, 1000, func(d *web.Deps) { d.AllowModelUpload = true })
	// Keep the page's websockets within reach, to drop one.
	b.do("watch websockets", func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		script := `window.__sockets = [];
			const Real = window.WebSocket;
			window.WebSocket = class extends Real { constructor(...a) { super(...a); window.__sockets.push(this); } };`
		return chromedp.Void{}, tg.Call(ctx, "Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": script}, nil)
	})
	b.do("load", chromedp.Navigate(b.url+"/?model=resnet20-fashion-mnist"), poll(doneJS), poll(readyJS))
	path, err := filepath.Abs("../onnx/testdata/branchy.onnx")
	if err != nil {
		t.Fatal(err)
	}
	b.do("open the own-model box", chromedp.Click(chromedp.CSS(`[data-testid="own-model"] summary`), chromedp.NodeVisible))
	b.do("upload the model", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="own-model-input"]`), []string{path}),
		poll(`document.querySelector('[data-testid="app"]').dataset.run === '2' && `+doneJS+` && `+readyJS))
	if note := b.text(`[data-testid="own-model-status"]`); !strings.Contains(note, "branchy.onnx: an ONNX graph, input 3×32×32, 10 classes") {
		t.Errorf("own-model note %q", note)
	}
	if sel := eval[string](b, `document.querySelector('[data-testid="model-select"]').selectedOptions[0].textContent`); sel != "branchy.onnx (yours)" {
		t.Errorf("the menu shows %q", sel)
	}
	b.open("incept")
	b.screenshot("own-model")

	// The connection drops, and its session's hold on the model with it
	// (the server forgets a visitor's model with the last session that
	// used it). The page sends the file again on the new connection, as
	// it would to another replica behind a proxy, and goes on with it.
	b.do("drop the connection", chromedp.Evaluate[chromedp.Void](`window.__sockets.at(-1).close()`),
		poll(`window.__sockets.length === 2 && window.__sockets[1].readyState === 1`),
		// the new session's first run (the old one's was 2)
		poll(`document.querySelector('[data-testid="app"]').dataset.run === '1' && `+doneJS+` && `+readyJS))
	if m := eval[string](b, `new URLSearchParams(location.search).get('model') || ''`); !strings.HasPrefix(m, "own-") {
		t.Errorf("after the reconnection the page asks for %q, want the visitor's own model", m)
	}
	if note := b.text(`[data-testid="own-model-status"]`); strings.Contains(note, "dropped") {
		t.Errorf("own-model note %q after the reconnection", note)
	}
	if layers := eval[int](b, `document.querySelectorAll('[data-testid="layer"][data-name^="incept"]').length`); layers == 0 {
		t.Error("after the reconnection no layer of the own model is shown")
	}
}
