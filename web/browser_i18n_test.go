package web_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/convscope/convscope/web/i18n"
)

// Every page of the app in Vietnamese, after its scripts have drawn it: no
// console warning (newBrowser fails on any), the page says it is in
// Vietnamese, and no English message of the catalogues shows where its
// Vietnamese one differs. (The lessons have their own walk,
// TestBrowserLessons.)
func TestBrowserEveryPageInVietnamese(t *testing.T) {
	b := newBrowserWith(t, 1280, 1000, withTraining(t, nil))
	// English messages long enough to be sure of (a short one, "map",
	// may be a layer's name) with no argument to fill, that read
	// differently in Vietnamese.
	var english []string
	hole := regexp.MustCompile(`%|\{\w+\}`)
	for _, k := range i18n.Keys(i18n.English) {
		en, vi := i18n.Message(i18n.English, k), i18n.Message(i18n.Vietnamese, k)
		if len(en) >= 14 && en != vi && !hole.MatchString(en) && !strings.ContainsAny(en, "<&") {
			english = append(english, en)
		}
	}
	if len(english) < 200 {
		t.Fatalf("only %d English messages to look for", len(english))
	}
	for _, p := range []struct{ path, ready string }{
		{"/", doneJS + ` && ` + readyJS},
		{"/?model=resnet20-fashion-mnist&layer=layer1.0.conv2&channel=3", doneJS + ` && ` + readyJS},
		{"/model", `true`},
		{"/model/resnet20", `true`},
		{"/results", `true`},
		{"/experiments", `true`},
		{"/experiments/topk", `!document.querySelector('[data-testid="topk-status"]') || !/…$/.test(document.querySelector('[data-testid="topk-status"]').textContent)`},
		{"/experiments/filters", `true`},
		{"/experiments/invariance", `true`},
		{"/experiments/occlusion", `true`},
		{"/experiments/correspondence", `true`},
		{"/train", `true`},
		{"/learn", `true`},
	} {
		sep := "?"
		if strings.Contains(p.path, "?") {
			sep = "&"
		}
		b.do("open "+p.path, chromedp.Navigate(b.url+p.path+sep+"lang=vi"), chromedp.WaitReady(chromedp.CSS(`footer`)),
			poll(`document.readyState === 'complete' && [...document.images].every((i) => i.complete)`), poll(p.ready), chromedp.Sleep(300*time.Millisecond))
		if got := eval[string](b, `document.documentElement.lang`); got != "vi" {
			t.Errorf("%s: the page is in %q", p.path, got)
		}
		text := eval[string](b, `document.body.innerText + ' ' + [...document.querySelectorAll('[title],[aria-label],[placeholder],img[alt]')].map((e) => [e.title, e.getAttribute('aria-label'), e.placeholder, e.alt].filter(Boolean).join(' ')).join(' ')`)
		for _, en := range english {
			if strings.Contains(text, en) {
				t.Errorf("%s shows English: %q", p.path, en)
			}
		}
		b.screenshot("vi" + strings.NewReplacer("/", "-", "?", "-", "&", "-", "=", "-").Replace(p.path))
	}
}
