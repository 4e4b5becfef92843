package web_test

import (
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
