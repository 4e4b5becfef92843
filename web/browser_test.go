package web_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/convscope/convscope/web"

	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium or Chrome binary on PATH.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one headless Chromium on a test server, with the helpers the
// browser tests share. Any exception, console error or warning (a CSP
// violation, a missing module) fails the test at its end.
type browser struct {
	t    *testing.T
	url  string // the test server
	ctx  context.Context
	mu   sync.Mutex
	said []string
}

// newBrowser starts the server and a width×height Chromium, or skips.
func newBrowser(t *testing.T, width, height int) *browser {
	return newBrowserWith(t, width, height, nil)
}

// newBrowserWith is newBrowser on a server whose dependencies set changes
// (another catalog, say).
func newBrowserWith(t *testing.T, width, height int, set func(*web.Deps)) *browser {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium on PATH: install Debian's chromium (apt-get install chromium) to run the browser test")
	}
	if raceDetector {
		t.Skip("the browser tests run without -race: ten times slower, the page's waits would time out on a loaded machine")
	}
	h, _ := newRouterWith(t, set)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return newBrowserAt(t, srv.URL, width, height)
}

// newBrowserAt opens a headless Chromium of width x height for pages at url
// (a server the test started some other way).
func newBrowserAt(t *testing.T, url string, width, height int) *browser {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium on PATH: install Debian's chromium (apt-get install chromium) to run the browser test")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun,
		// a camera that draws a test pattern, granted without asking (the
		// explorer's camera input)
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(width, height))
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	b := &browser{t: t, url: url}
	// The subscriptions start the browser.
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	logs := chromedp.Events(ctx, cdplog.EntryAdded)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			b.report("exception: " + desc)
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.report(fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
			}
		}
	}()
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				b.report(fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}()
	// The browser lives as long as the test; the steps share a deadline.
	var cancel context.CancelFunc
	b.ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if p := b.problems(); len(p) > 0 && !t.Failed() {
			t.Errorf("the browser reported: %v", p)
		}
	})
	return b
}

func (b *browser) report(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.said = append(b.said, s)
}

func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.said)
}

// do runs steps and fails the test, with what the browser said, if one fails.
func (b *browser) do(name string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (browser said: %v)", name, err, b.problems())
	}
}

// poll waits until the JavaScript expression expr is true.
func poll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(40*time.Second))
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v (browser said: %v)", js, err, b.problems())
	}
	return v
}

// text is the text of the element sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read %s: %v (browser said: %v)", sel, err, b.problems())
	}
	return s
}

// screenshot keeps a picture of the viewport in $CONVSCOPE_SHOTS/name.png
// when that folder is set (the README's docs/screenshot.png is
// TestBrowserOpensBlocksAndKeepsTheViewInTheURL's "resnet-block").
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("CONVSCOPE_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// Selectors of the page's parts.
const (
	doneJS  = `document.querySelector('[data-testid="app"]').dataset.done === 'true'`
	readyJS = `document.querySelector('[data-testid="layers"]').dataset.ready === 'true'`
)

func rowSel(name string) string { return `[data-testid="layer"][data-name="` + name + `"]` }

// clickMap clicks map (or cell) k of a layer's canvas, working out where
// the tile lies from the canvas's drawn grid (maps.js lays tiles out in
// rows of cols; data-cols says how many).
func (b *browser) clickMap(layer string, k int) {
	b.t.Helper()
	sel := rowSel(layer) + ` [data-testid="map-canvas"]`
	b.do("see "+layer+" drawn", chromedp.ScrollIntoView(chromedp.CSS(sel)), poll(`document.querySelector('`+rowSel(layer)+`').dataset.drawn === 'true'`))
	xy := eval[[]float64](b, `(() => { const c = document.querySelector('`+sel+`'); const r = c.getBoundingClientRect();
		const cols = Number(c.dataset.cols), rows = Number(c.dataset.rows), k = `+fmt.Sprint(k)+`;
		return [r.left + (k % cols + 0.5) * r.width / cols, r.top + (Math.floor(k / cols) + 0.5) * r.height / rows]; })()`)
	b.do("click map "+fmt.Sprint(k)+" of "+layer, chromedp.MouseClickXY(xy[0], xy[1]))
}

// projected waits for the projection of layer's channel k.
func (b *browser) projected(layer string, k int, what string) string {
	b.t.Helper()
	b.do("see the projection of "+layer, poll(`(() => { const i = document.querySelector('[data-testid="projection-image"]');
		const info = document.querySelector('[data-testid="projection-info"]').textContent;
		return i.dataset.ready === 'true' && info.startsWith('`+layer+` · ') && info.includes('`+what+`'); })()`))
	return b.text(`[data-testid="projection-info"]`)
}

// TestBrowser drives the real page as a visitor does: the first sample runs
// on load, every layer's maps arrive, a click on a map projects it, a click
// on the enlarged map picks a unit, then a drawing and an upload run (the
// same file twice runs twice).
func TestBrowser(t *testing.T) {
	b := newBrowser(t, 1440, 1000)
	const layers = 12 // LeNet-5
	b.do("load the page", chromedp.Navigate(b.url))
	b.do("run the first sample on load", poll(doneJS), poll(readyJS))
	if n := eval[int](b, `document.querySelectorAll('[data-testid="layer"][data-ready="true"]').length`); n != layers {
		t.Fatalf("%d layers ready, want %d", n, layers)
	}
	if u := eval[string](b, `location.search`); !strings.Contains(u, "sample=fashion-mnist%2F00-ankle-boot.png") {
		t.Fatalf("the URL %q does not name the sample", u)
	}
	if n := eval[int](b, `document.querySelectorAll('[data-testid="top-class"]').length`); n != 5 {
		t.Fatalf("%d classes in the top five", n)
	}
	b.do("see the input", poll(`document.querySelector('[data-testid="input-canvas"]').dataset.run === '1'`))
	// One canvas per layer: c1's six maps and f6's 84 cells, drawn once
	// scrolled into view.
	b.do("scroll to f6", chromedp.ScrollIntoView(chromedp.CSS(rowSel("f6"))), poll(`document.querySelector('`+rowSel("f6")+`').dataset.drawn === 'true'`))
	if got := eval[string](b, `(() => { const c = document.querySelector('`+rowSel("c1")+` canvas.mapgrid');
		const f = document.querySelector('`+rowSel("f6")+` canvas.mapgrid');
		return document.querySelectorAll('canvas.mapgrid').length + ' ' + c.dataset.count + ' ' + f.dataset.count; })()`); got != "12 6 84" {
		t.Fatalf("canvases and their counts: %q, want 12 canvases, 6 maps, 84 cells", got)
	}

	b.clickMap("c3", 2)
	info := b.projected("c3", 2, "map 2")
	if !strings.Contains(info, "strongest") {
		t.Fatalf("projection info %q", info)
	}
	b.screenshot("projection")

	// Click the top-left pixel of the enlarged 10x10 map: unit (0,0).
	box := rect(t, b.ctx, `[data-testid="projection-map"]`)
	cell := box[2] / 10
	b.do("click a pixel", chromedp.MouseClickXY(box[0]+cell/2, box[1]+cell/2))
	b.do("see that unit", poll(`document.querySelector('[data-testid="projection-info"]').textContent.includes('unit (y 0, x 0)')`))
	if info := b.text(`[data-testid="projection-info"]`); strings.Contains(info, "strongest") {
		t.Fatalf("a chosen unit is captioned as the strongest: %q", info)
	}

	// A logit is captioned with its class name.
	b.clickMap("out", 7)
	if info := b.projected("out", 7, "Sneaker"); strings.Contains(info, "strongest") {
		t.Fatalf("logit caption %q", info)
	}
	b.clickMap("c3", 2)
	b.projected("c3", 2, "map 2")

	// Draw a stroke: the drawing is uploaded and run, the selection kept.
	b.do("scroll to the drawing", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="draw-canvas"]`)))
	c := rect(t, b.ctx, `[data-testid="draw-canvas"]`)
	x0, y0 := c[0]+c[2]*0.3, c[1]+c[3]*0.3
	stroke := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 10; i++ {
		f := float64(i) / 10 * 0.4
		stroke = append(stroke, chromedp.MouseEvent(chromedp.MouseMoved, x0+c[2]*f, y0+c[3]*f, chromedp.ButtonLeft, buttons(1)))
	}
	stroke = append(stroke, chromedp.MouseEvent(chromedp.MouseReleased, x0+c[2]*0.4, y0+c[3]*0.4, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	b.do("draw a stroke", stroke...)
	b.do("see the drawing run", poll(`document.querySelector('[data-testid="app"]').dataset.run === '2' && `+doneJS))
	if note := b.text(`[data-testid="input-note"]`); !strings.Contains(note, "your picture") {
		t.Fatalf("input note after drawing: %q", note)
	}
	b.projected("c3", 2, "map 2") // kept across runs

	// Upload a dark square on white paper: inverted for this one-channel
	// model, then run; the same file again runs again.
	paper := paperPNG(t)
	b.do("upload a picture", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-input"]`), []string{paper}))
	b.do("see the upload run", poll(`document.querySelector('[data-testid="app"]').dataset.run === '3' && `+doneJS+` &&
		document.querySelector('[data-testid="input-note"]').textContent.includes('inverted') &&
		document.querySelector('[data-testid="upload-status"]').textContent.includes('light background')`))
	b.do("upload it again", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-input"]`), []string{paper}))
	b.do("see it run again", poll(`document.querySelector('[data-testid="app"]').dataset.run === '4' && `+doneJS))
}

// rect is the bounding box of the element sel: left, top, width, height.
func rect(t *testing.T, ctx context.Context, sel string) []float64 {
	t.Helper()
	js := `(() => { const r = document.querySelector('` + sel + `').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`
	r, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](js))
	if err != nil || len(r) != 4 {
		t.Fatalf("bounding box of %s: %v %v", sel, r, err)
	}
	return r
}

// buttons sets which mouse buttons are held during a move (1: left).
func buttons(b int64) chromedp.MouseOption {
	return func(p *input.DispatchMouseEventParams) { p.Buttons = b }
}

// paperPNG writes a dark square on white paper to a temporary PNG file.
func paperPNG(t *testing.T) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 90, 60))
	for y := range 60 {
		for x := range 90 {
			v := uint8(240)
			if x > 30 && x < 60 && y > 15 && y < 45 {
				v = 20
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	path := filepath.Join(t.TempDir(), "paper.png")
	if err := os.WriteFile(path, pngBytes(t, img), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
