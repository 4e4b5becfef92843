package web_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/web/learn"
)

// The lessons in both languages: the index, then every written lesson
// opened from it, with its pictures drawn and its numbers there, and no
// console warning (newBrowser fails the test on any); the language switch
// keeps the page and the picture.
func TestBrowserLessons(t *testing.T) {
	b := newBrowser(t, 1280, 1000)
	for _, lang := range i18n.Langs {
		b.do("open the index in "+string(lang), chromedp.Navigate(b.url+"/learn?lang="+string(lang)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="lessons"]`)))
		if got := eval[string](b, `document.documentElement.lang`); got != string(lang) {
			t.Errorf("the index is in %q, want %s", got, lang)
		}
		if got := eval[string](b, `document.querySelector('[data-testid="nav-learn"]').textContent`); got != i18n.Message(lang, "nav.learn") {
			t.Errorf("%s: the header says %q", lang, got)
		}
		for _, l := range learn.Lessons {
			if !l.Ready {
				continue
			}
			b.do("open "+l.Slug, chromedp.Click(chromedp.CSS(`[data-lesson="`+l.Slug+`"] a`), chromedp.NodeVisible),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-page"]`)),
				poll(`[...document.images].every((i) => i.complete && i.naturalWidth > 0)`))
			if !strings.Contains(eval[string](b, `location.search`), "lang="+string(lang)) {
				t.Errorf("%s: the lesson's URL lost the language", lang)
			}
			if got := eval[string](b, `document.querySelector('h1').textContent`); got != i18n.Message(lang, l.TitleKey()) {
				t.Errorf("%s: lesson %s is titled %q", lang, l.Slug, got)
			}
			b.screenshot("lesson-" + l.Slug + "-" + string(lang))
			b.do("back to the index", chromedp.Navigate(b.url+"/learn?lang="+string(lang)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lessons"]`)))
		}
	}
	// Another picture, then the other language: the same picture, in Vietnamese.
	b.do("open the lesson", chromedp.Navigate(b.url+"/learn/basics?lang=en"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-samples"]`)))
	pick := eval[string](b, `document.querySelector('[data-testid="lesson-samples"] li:nth-child(3) a').getAttribute('href')`)
	b.do("choose a picture", chromedp.Navigate(b.url+pick), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-page"]`)))
	sample := eval[string](b, `new URLSearchParams(location.search).get('sample')`)
	if sample == "" {
		t.Fatal("choosing a picture did not put it in the URL")
	}
	href := eval[string](b, `document.querySelector('[data-testid="lang-vi"]').getAttribute('href')`)
	b.do("follow the switch to Vietnamese", chromedp.Navigate(b.url+href), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-page"]`)))
	if got := eval[string](b, `document.documentElement.lang`); got != "vi" {
		t.Errorf("the switch leads to a page in %q", got)
	}
	if got := eval[string](b, `new URLSearchParams(location.search).get('sample')`); got != sample {
		t.Errorf("the switch lost the picture: %q, want %q", got, sample)
	}
	if got := eval[string](b, `document.querySelector('[data-testid="lesson-input"]').alt`); got != sample {
		t.Errorf("the lesson shows %q", got)
	}
	// The MobileNet lesson's width slider, from the keyboard: one step
	// down counts MobileNet 0.75 again.
	b.do("open the MobileNet lesson", chromedp.Navigate(b.url+"/learn/mobilenet?lang=en"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="alpha"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid="alpha"]`)), chromedp.KeyEvent(kb.ArrowLeft))
	b.do("counted again", chromedp.Sleep(300*time.Millisecond), chromedp.WaitVisible(chromedp.CSS(`[data-testid="chosen-cost"]`)), poll(`location.search.includes('alpha=0.75')`))
	if got := eval[string](b, `document.querySelector('[data-testid="chosen-cost"]').textContent`); !strings.HasPrefix(got, "MobileNet 0.75-224: 325 million") {
		t.Errorf("after the slider: %q", got)
	}
	b.screenshot("lesson-mobilenet-075")
}

// Any unit of a lesson's maps, by a click or from the keyboard, in
// Vietnamese: the panel shows how it was computed, the worked-out total
// equal to the engine's value; a GoogLeNet branch's ReLU is followed back
// through its batch norm to the convolution.
func TestBrowserLessonMapUnits(t *testing.T) {
	b := newBrowser(t, 1280, 1000)
	b.do("open the first lesson", chromedp.Navigate(b.url+"/learn/basics?lang=vi"),
		chromedp.WaitVisible(chromedp.CSS(`img.unit-map`)), poll(`document.querySelector('img.unit-map').complete`))
	// map 4, row 10, column 12 of c1 (6 maps of 24x24 in a row)
	xy := eval[[]float64](b, `(() => { const i = document.querySelector('img.unit-map'); i.scrollIntoView(); const r = i.getBoundingClientRect();
		const d = i.dataset, s = Number(d.scale), w = Number(d.w), k = r.width / i.naturalWidth;
		return [r.left + ((4 * (w + 1) + 12) * s + s / 2) * k, r.top + (10 * s + s / 2) * k]; })()`)
	b.do("click a unit of map 4", chromedp.MouseClickXY(xy[0], xy[1]), poll(`document.querySelectorAll('[data-testid="lesson-unit-part"]').length === 1`))
	if got := eval[[]string](b, `['channel', 'y', 'x'].map((n) => document.querySelector('[data-unit-form]').elements[n].value)`); strings.Join(got, ",") != "4,10,12" {
		t.Errorf("the click chose %v, want map 4, (10, 12)", got)
	}
	checkTotals := func(what string, parts int) {
		t.Helper()
		totals := eval[[]string](b, `[...document.querySelectorAll('[data-testid="lesson-unit-body"] [data-testid="arith-result"]')].map((e) => e.textContent)`)
		if len(totals) != parts {
			t.Fatalf("%s: %d units shown, want %d", what, len(totals), parts)
		}
		for _, s := range totals {
			// "= 0.123 (giá trị của engine: 0.123)"
			nums := regexp.MustCompile(`-?[0-9.]+(?:e[-+][0-9]+)?`).FindAllString(s, -1)
			if len(nums) != 2 || nums[0] != nums[1] || !strings.Contains(s, strings.Split(i18n.Message(i18n.Vietnamese, "js.explore.arith_engine"), "{")[0]) {
				t.Errorf("%s: %q", what, s)
			}
		}
	}
	checkTotals("the click", 1)
	if got := b.text(`[data-testid="lesson-unit-body"] .hint`); !strings.Contains(got, "c1 (Conv2d)") || !strings.Contains(got, "(10, 12)") {
		t.Errorf("the unit shown is %q", got)
	}
	b.screenshot("lesson-unit-basics-vi")

	b.do("open the GoogLeNet lesson", chromedp.Navigate(b.url+"/learn/googlenet?lang=vi"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-unit"] summary`)))
	b.do("open the panel from the keyboard", chromedp.Focus(chromedp.CSS(`[data-testid="lesson-unit"] summary`)), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-unit-layer"]`)))
	b.do("choose branch 2, map 3, (1, 2) and show it", chromedp.SetValue(chromedp.CSS(`[data-testid="lesson-unit-layer"]`), "1"),
		chromedp.Focus(chromedp.CSS(`[data-testid="lesson-unit-channel"]`)), chromedp.KeyEvent(kb.ArrowUp+kb.ArrowUp+kb.ArrowUp),
		chromedp.Focus(chromedp.CSS(`[data-testid="lesson-unit-y"]`)), chromedp.KeyEvent(kb.ArrowUp),
		chromedp.Focus(chromedp.CSS(`[data-testid="lesson-unit-x"]`)), chromedp.KeyEvent(kb.ArrowUp+kb.ArrowUp), chromedp.KeyEvent(kb.Enter),
		poll(`document.querySelectorAll('[data-testid="lesson-unit-part"]').length === 3`))
	checkTotals("branch 2", 3)
	heads := eval[[]string](b, `[...document.querySelectorAll('[data-testid="lesson-unit-part"] .hint')].map((e) => e.textContent)`)
	if len(heads) != 3 || !strings.HasPrefix(heads[0], "inception3a.branch2.1.relu (ReLU)") || !strings.Contains(heads[2], "(Conv2d)") || !strings.Contains(heads[0], "3") {
		t.Errorf("the chain shown: %q", heads)
	}
	b.screenshot("lesson-unit-googlenet-vi")
}

// The evaluation lesson times every trained model in the reader's own
// browser: the engine compiled to WebAssembly fills a column of
// milliseconds, in the page's language, with no console warning (the
// content security policy lets the browser compile it).
func TestBrowserEvaluationInTheBrowser(t *testing.T) {
	b := newBrowser(t, 1280, 1000)
	b.do("open the evaluation lesson", chromedp.Navigate(b.url+"/learn/evaluation?lang=vi"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="measure-here"]`)))
	if eval[bool](b, `!document.querySelector('[data-testid="browser-ms-head"]').hidden`) {
		t.Fatal("the browser's column shows before any measurement")
	}
	b.do("measure in the browser", chromedp.Click(chromedp.CSS(`[data-testid="measure-here"]`), chromedp.NodeVisible),
		poll(`[...document.querySelectorAll('[data-testid="browser-ms"]')].every((c) => !c.hidden && c.textContent !== '')`))
	ms := eval[[]string](b, `[...document.querySelectorAll('[data-testid="browser-ms"]')].map((c) => c.textContent)`)
	models := eval[[]string](b, `[...document.querySelectorAll('[data-testid="evaluation-row"]')].map((r) => r.dataset.family)`)
	if len(ms) < 8 || len(ms) != len(models) {
		t.Fatalf("%d times for %d models", len(ms), len(models))
	}
	times := map[string]float64{}
	for i, s := range ms {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			t.Errorf("%s: %q is not a time", models[i], s)
		}
		times[models[i]] = v
	}
	// LeNet-5's 0.4 million multiply-adds take less time than MobileNet
	// v1-small's 109 million.
	if times["lenet5"] >= times["mobilenet_v1_small"] {
		t.Errorf("LeNet-5 %g ms, MobileNet v1-small %g ms", times["lenet5"], times["mobilenet_v1_small"])
	}
	if got := b.text(`[data-testid="measure-here-status"]`); !strings.HasPrefix(got, strings.Split(i18n.Message(i18n.Vietnamese, "js.evaluation.done"), "{")[0]) {
		t.Errorf("the status says %q", got)
	}
	b.screenshot("evaluation-browser-vi")
}
