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

// TestBrowser drives the real page in headless Chromium: pick a sample,
// wait for every layer's maps and the prediction, click a map and see its
// projection, click a pixel of the enlarged map, then draw and upload.
// Set CONVSCOPE_SCREENSHOT=file.png to keep a picture of the page (the
// README's docs/screenshot.png comes from here).
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium on PATH: install Debian's chromium (apt-get install chromium) to run the browser test")
	}
	h, _ := newRouter(t)
	srv := httptest.NewServer(h)
	defer srv.Close()

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1440, 1000))
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// Any exception, console error or warning (a CSP violation, a missing
	// module) fails the test. The subscriptions start the browser.
	exceptions := chromedp.Events(browser, runtime.ExceptionThrown)
	console := chromedp.Events(browser, runtime.ConsoleAPICalled)
	logs := chromedp.Events(browser, cdplog.EntryAdded)
	var mu sync.Mutex
	var problems []string
	report := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, s)
	}
	said := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(problems)
	}
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
			report("exception: " + desc)
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
				report(fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
			}
		}
	}()
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				report(fmt.Sprintf("log %s: %s %s", ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	}()
	// The browser lives as long as browser; the steps share a deadline.
	ctx, cancel := context.WithTimeout(browser, 30*time.Second)
	defer cancel()

	do := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v (browser said: %v)", name, err, said())
		}
	}
	poll := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v (browser said: %v)", sel, err, said())
		}
		return s
	}
	const layers = 12 // LeNet-5

	do("load the page", chromedp.Navigate(srv.URL), chromedp.WaitVisible(chromedp.CSS(`[data-testid="sample"]`)))
	do("connect", poll(`document.querySelector('[data-testid="status"]').dataset.state === 'ready'`))
	do("pick a sample", chromedp.Click(chromedp.CSS(`[data-testid="sample"]`), chromedp.NodeVisible))
	do("see every layer's maps", poll(fmt.Sprintf(`document.querySelectorAll('[data-testid="layer"][data-ready="true"]').length === %d`, layers)))
	do("see the prediction", poll(`document.querySelector('[data-testid="probs"]').dataset.ready === 'true'`))
	do("see the input", poll(`document.querySelector('[data-testid="input-canvas"]').dataset.run === '1'`))
	do("count tiles and cells", poll(`document.querySelectorAll('[data-testid="layer"][data-index="0"] [data-testid="map-tile"]').length === 6 &&
		document.querySelectorAll('[data-testid="layer"][data-index="9"] [data-testid="map-cell"]').length === 84`))

	do("click a map", chromedp.Click(chromedp.CSS(`[data-testid="layer"][data-index="3"] [data-testid="map-tile"][data-channel="2"]`), chromedp.NodeVisible))
	do("see its projection", poll(`(() => { const i = document.querySelector('[data-testid="projection-image"]');
		return i.dataset.ready === 'true' && i.naturalWidth === 28 && i.naturalHeight === 28; })()`))
	if info := text(`[data-testid="projection-info"]`); !strings.Contains(info, "c3") || !strings.Contains(info, "map 2") || !strings.Contains(info, "strongest") {
		t.Fatalf("projection info %q", info)
	}
	// The README's picture is this moment: a sample, every layer, and the
	// projection of c3's map 2 with its receptive field.
	if path := os.Getenv("CONVSCOPE_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Click the top-left pixel of the enlarged 10x10 map: unit (0,0).
	box := rect(t, ctx, `[data-testid="projection-map"]`)
	cell := box[2] / 10
	do("click a pixel", chromedp.MouseClickXY(box[0]+cell/2, box[1]+cell/2))
	do("see that unit", poll(`document.querySelector('[data-testid="projection-info"]').textContent.includes('unit (y 0, x 0)')`))

	// Draw a stroke: the drawing is uploaded and run, the selection kept.
	c := rect(t, ctx, `[data-testid="draw-canvas"]`)
	x0, y0 := c[0]+c[2]*0.3, c[1]+c[3]*0.3
	stroke := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, x0, y0, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 10; i++ {
		f := float64(i) / 10 * 0.4
		stroke = append(stroke, chromedp.MouseEvent(chromedp.MouseMoved, x0+c[2]*f, y0+c[3]*f, chromedp.ButtonLeft, buttons(1)))
	}
	stroke = append(stroke, chromedp.MouseEvent(chromedp.MouseReleased, x0+c[2]*0.4, y0+c[3]*0.4, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	do("draw a stroke", stroke...)
	do("see the drawing run", poll(`document.querySelector('[data-testid="app"]').dataset.run === '2' &&
		document.querySelector('[data-testid="app"]').dataset.done === 'true'`))
	if note := text(`[data-testid="input-note"]`); !strings.Contains(note, "your picture") {
		t.Fatalf("input note after drawing: %q", note)
	}
	do("keep the projection across runs", poll(`document.querySelector('[data-testid="projection-image"]').dataset.ready === 'true'`))

	// Upload a dark square on white paper: inverted, then run.
	do("upload a picture", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-input"]`), []string{paperPNG(t)}))
	do("see the upload run", poll(`document.querySelector('[data-testid="app"]').dataset.run === '3' &&
		document.querySelector('[data-testid="app"]').dataset.done === 'true' &&
		document.querySelector('[data-testid="upload-status"]').textContent.includes('inverted')`))

	if p := said(); len(p) > 0 {
		t.Fatalf("the browser reported: %v", p)
	}
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
