package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// methodTitles are the method menu's labels, in its order.
var methodTitles = []string{"Deconvnet (Zeiler & Fergus)", "Gradient (Simonyan et al.)", "Guided backpropagation",
	"Grad-CAM (Selvaraju et al.)", "Integrated gradients", "SmoothGrad", "Occlusion (Zeiler & Fergus)"}

// choose sets a menu's value as a visitor's pick does.
func (b *browser) choose(testid, value string) {
	b.t.Helper()
	b.do("choose "+value+" in "+testid, chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('[data-testid="`+testid+`"]');
		s.value = '`+value+`'; s.dispatchEvent(new Event('change')); })()`))
}

// shown waits for a whole attribution whose description contains each of
// want, and returns the description.
func (b *browser) shown(want ...string) string {
	b.t.Helper()
	cond := `document.querySelector('[data-testid="projection-image"]').dataset.ready === 'true'`
	for _, w := range want {
		cond += ` && document.querySelector('[data-testid="projection-info"]').textContent.includes(` + fmt.Sprintf("%q", w) + `)`
	}
	b.do("see "+strings.Join(want, ", "), poll(cond))
	return b.text(`[data-testid="projection-info"]`)
}

// A visitor on the trained ZFNet picks a unit, tries every method on it,
// then explains the predicted class, compares every method in one row and
// downloads the view as a PNG.
func TestBrowserAttributionMethods(t *testing.T) {
	b := newBrowser(t, 1440, 1000)
	b.do("load ZFNet", chromedp.Navigate(b.url+"/?model=zfnet-small-fashion-mnist&sample=fashion-mnist%2F07-sandal.png"), poll(doneJS), poll(readyJS))
	if got := eval[string](b, `[...document.querySelectorAll('[data-testid="method-select"] option')].map((o) => o.textContent).join('|')`); got != strings.Join(methodTitles, "|") {
		t.Fatalf("method menu %q", got)
	}
	b.clickMap("features.5", 3)
	b.projected("features.5", 3, "Deconvnet")
	for i, name := range []string{"deconvnet", "gradient", "guided", "gradcam", "ig", "smoothgrad", "occlusion"} {
		b.choose("method-select", name)
		info := b.shown(methodTitles[i])
		side := eval[int](b, `document.querySelector('[data-testid="projection-image"]').naturalWidth`)
		heat := name == "gradcam" || name == "occlusion"
		switch {
		case heat && side != 224, !heat && side != 28:
			t.Errorf("%s: a picture %d pixels wide", name, side)
		case name == "gradcam" && !strings.HasPrefix(info, "class "):
			t.Errorf("gradcam explains %q, want the predicted class at features.5", info)
		case name != "gradcam" && !strings.HasPrefix(info, "features.5 · map 3"):
			t.Errorf("%s explains %q, want the unit", name, info)
		}
		// The deconvnet and guided backpropagation through ZFNet's LRN
		// layers say what they did there.
		if scale := b.text(`[data-testid="projection-scale"]`); (name == "deconvnet" || name == "guided") != strings.Contains(scale, "LocalResponseNorm is walked back by its full derivative") {
			t.Errorf("%s: colour scale and notes %q", name, scale)
		}
		if name == "deconvnet" && !eval[bool](b, `!document.querySelector('[data-testid="projection-crop-figure"]').hidden`) {
			t.Error("no enlarged receptive field beside the deconvnet's projection")
		}
		b.screenshot("method-" + name)
	}
	if u := eval[string](b, `location.search`); !strings.Contains(u, "method=occlusion") {
		t.Fatalf("URL %s lacks the method", u)
	}

	// The predicted class, by occlusion and by Grad-CAM.
	b.choose("explain-select", "predicted")
	info := b.shown("class ", "Occlusion")
	if eval[bool](b, `document.querySelector('[data-testid="projection-map"]').offsetParent !== null`) {
		t.Error("the unit's map is still shown for a class")
	}
	if scale := b.text(`[data-testid="projection-scale"]`); !strings.Contains(scale, "the class's probability with the grey square") {
		t.Errorf("occlusion's colour scale: %q", scale)
	}
	t.Logf("occlusion: %s", info)

	// Every method for the class, one row.
	b.do("compare every method", chromedp.Click(chromedp.CSS(`[data-testid="compare-button"]`), chromedp.NodeVisible),
		poll(`document.querySelectorAll('[data-testid="compare-item"]').length === 7 &&
			[...document.querySelectorAll('[data-testid="compare-item"] img')].every((i) => i.complete && i.naturalWidth > 0)`))
	got := eval[string](b, `[...document.querySelectorAll('[data-testid="compare-item"] figcaption')].map((c) => c.textContent).join('|')`)
	if got != strings.Join(methodTitles, "|") {
		t.Errorf("compare row %q", got)
	}
	b.do("scroll to the compare row", chromedp.ScrollIntoView(chromedp.CSS(`[data-testid="compare"]`)))
	b.screenshot("compare")

	// The downloads: a PNG of the view and the numbers as .npy, named for
	// the view. (The page's policy lets no script fetch a blob: the test
	// keeps each blob the page makes, and reads the one a click saves.)
	b.do("catch downloads", chromedp.Evaluate[chromedp.Void](`window.caught = null;
		const made = new Map(), make = URL.createObjectURL;
		URL.createObjectURL = (blob) => { const u = make(blob); made.set(u, blob); return u; };
		HTMLAnchorElement.prototype.click = function () {
			const name = this.download;
			made.get(this.href).arrayBuffer().then((buf) => {
				const b = new Uint8Array(buf);
				window.caught = { name, size: b.length, head: String.fromCharCode(...b.slice(1, 4)), text: new TextDecoder().decode(b.slice(10, 90)) };
			});
		};`))
	b.do("download the PNG", chromedp.Click(chromedp.CSS(`[data-testid="download-button"]`), chromedp.NodeVisible), poll(`window.caught !== null`))
	dl := eval[map[string]any](b, `window.caught`)
	if !strings.HasSuffix(dl["name"].(string), "-occlusion.png") || dl["head"] != "PNG" || dl["size"].(float64) < 5000 {
		t.Errorf("PNG download %v", dl)
	}
	b.do("download the numbers", chromedp.Evaluate[chromedp.Void](`window.caught = null`),
		chromedp.Click(chromedp.CSS(`[data-testid="download-numbers"]`), chromedp.NodeVisible), poll(`window.caught !== null`))
	dl = eval[map[string]any](b, `window.caught`)
	// ZFNet's occlusion map of a 28x28 input: 13x13 squares of 4 at stride 2.
	if !strings.HasSuffix(dl["name"].(string), "-occlusion.npy") || dl["head"] != "NUM" ||
		!strings.Contains(dl["text"].(string), "'shape': (1, 1, 13, 13)") || (int(dl["size"].(float64))-4*13*13)%64 != 0 {
		t.Errorf(".npy download %v", dl)
	}
}
