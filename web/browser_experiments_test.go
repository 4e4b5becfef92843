package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/convscope/convscope/data"
)

// Figure 2's page: the scan named in the URL runs with its progress shown,
// then every channel of the layer has a figure, drawn when it comes near
// the screen; choosing another layer in the form scans that one.
func TestBrowserTopK(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	b := newBrowserWith(t, 1280, 900, nil)
	const ready = `document.querySelector('#topk')?.dataset.ready === 'true' && document.querySelectorAll('[data-testid="topk-channel"][data-ready="true"]').length >= 4`
	b.do("scan LeNet-5's c3", chromedp.Navigate(b.url+"/experiments/topk?model=lenet5-fashion-mnist&layer=c3"), poll(ready))
	if n := eval[int](b, `document.querySelectorAll('[data-testid="topk-channel"]').length`); n != 16 {
		t.Errorf("%d channel figures, want c3's 16", n)
	}
	if s := b.text(`[data-testid="topk-status"]`); !strings.Contains(s, "10000 images") {
		t.Errorf("status %q", s)
	}
	if alt := eval[string](b, `document.querySelector('[data-testid="topk-channel"] img').alt`); !strings.Contains(alt, "deconvnet projections") {
		t.Errorf("alt text %q", alt)
	}
	b.screenshot("topk")
	b.do("choose c1", chromedp.SetValue(chromedp.CSS(`[data-testid="topk-layer"]`), "c1"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="topk-form"]').requestSubmit()`))
	b.do("load c1's page", chromedp.WaitVisible(chromedp.CSS(`#topk[data-layer="c1"]`)))
	b.do("scan c1", poll(ready))
	if n := eval[int](b, `document.querySelectorAll('[data-testid="topk-channel"]').length`); n != 6 {
		t.Errorf("%d channel figures, want c1's 6", n)
	}
}

// Every experiment's page runs in the browser on the four models the
// issue names: the scan and its first figures, the filters' figure, the
// invariance charts, the occlusion figure and the correspondence table.
func TestBrowserExperimentsOnFourModels(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	b := newBrowserWith(t, 1280, 900, nil)
	for _, model := range []string{"lenet5-fashion-mnist", "zfnet-small-fashion-mnist", "resnet20-fashion-mnist", "mobilenet-v2-small-fashion-mnist"} {
		b.do(model+": top-9", chromedp.Navigate(b.url+"/experiments/topk?model="+model),
			poll(`document.querySelector('#topk')?.dataset.ready === 'true' && document.querySelector('[data-testid="topk-channel"]')?.dataset.ready === 'true'`))
		b.do(model+": filters", chromedp.Navigate(b.url+"/experiments/filters?model="+model),
			poll(`(() => { const i = document.querySelector('[data-testid="filter-figure"]'); return i && i.complete && i.naturalWidth > 0; })()`))
		if facts := b.text(`[data-testid="filter-dead"]`); !strings.Contains(facts, "1000 test images") {
			t.Errorf("%s: filters %q", model, facts)
		}
		b.do(model+": invariance", chromedp.Navigate(b.url+"/experiments/invariance?model="+model+"&kind=rotate"),
			poll(`document.querySelectorAll('[data-testid="invariance-chart"] svg').length === 3`))
		b.do(model+": occlusion", chromedp.Navigate(b.url+"/experiments/occlusion?model="+model+"&sample=04-shirt.png"),
			poll(`document.querySelector('#occlusion')?.dataset.ready === 'true'`))
		b.do(model+": correspondence", chromedp.Navigate(b.url+"/experiments/correspondence?model="+model+"&class=7"),
			poll(`document.querySelectorAll('[data-testid="correspondence-row"]').length === 2`))
	}
}

// Table 1's page: a box dragged on the second picture becomes that
// picture's part, the others keep theirs, and the table is measured with
// one box per picture.
func TestBrowserCorrespondenceParts(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	b := newBrowserWith(t, 1280, 900, nil)
	b.do("load", chromedp.Navigate(b.url+"/experiments/correspondence?model=lenet5-fashion-mnist&class=7"),
		poll(`document.querySelectorAll('[data-testid="part-picker"] img').length === 5 && [...document.querySelectorAll('[data-testid="part-picker"] img')].every((i) => i.complete)`))
	// The second picture's frame is 96 pixels for 28: drag from pixel (3,15) to (12,25).
	rect := eval[[]float64](b, `(() => { const r = document.querySelectorAll('.part-frame')[1].getBoundingClientRect(); return [r.left, r.top, r.width]; })()`)
	px := func(p float64) float64 { return p / 28 * rect[2] }
	b.do("drag a box", chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, rect[0]+px(3), rect[1]+px(15), chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, rect[0]+px(8), rect[1]+px(20), chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, rect[0]+px(12), rect[1]+px(25), chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, rect[0]+px(12), rect[1]+px(25), chromedp.ButtonLeft))
	boxes := eval[[]string](b, `[...document.querySelectorAll('[data-testid="correspondence-box"]')].map((i) => i.value)`)
	if len(boxes) != 5 || boxes[1] != "3,15,12,25" || boxes[0] != "7,7,14,14" {
		t.Fatalf("boxes after the drag: %v", boxes)
	}
	b.do("measure", chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="correspondence-form"]').requestSubmit()`))
	b.do("load the table", chromedp.WaitVisible(chromedp.CSS(`[data-testid="correspondence-row"]`)))
	if got := eval[[]string](b, `new URLSearchParams(location.search).getAll('box')`); len(got) != 5 || got[1] != "3,15,12,25" || got[0] != "7,7,14,14" {
		t.Errorf("the URL's boxes: %v", got)
	}
	b.screenshot("correspondence")
}
