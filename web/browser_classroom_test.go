package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitHref waits until tab b's address contains want (across the page
// loads a class causes) and returns it.
func waitHref(t *testing.T, b *browser, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	href := ""
	for time.Now().Before(deadline) {
		// the address with a # after it, so that a test can wait for an
		// exact one
		if h, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState === 'complete' ? location.href + '#' : ''`)); err == nil && h != "" {
			href = h
			if strings.Contains(h, want) {
				return h
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the page is at %q, never at %q", href, want)
	return ""
}

// A classroom session across two tabs: the teacher starts a class, the
// student joins with its code and follows the teacher from lesson to
// lesson and into the explorer, steps out, and comes back.
func TestBrowserClassroom(t *testing.T) {
	teacher := newBrowser(t, 1280, 900)
	tab, cancel := chromedp.NewContext(teacher.ctx)
	t.Cleanup(cancel)
	student := &browser{t: t, url: teacher.url, ctx: tab}

	teacher.do("open the lessons", chromedp.Navigate(teacher.url+"/learn"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lessons"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="class-start"]`), chromedp.NodeVisible),
		poll(`document.querySelector('[data-testid="class-teacher-code"]').textContent.length === 6`))
	code := eval[string](teacher, `document.querySelector('[data-testid="class-teacher-code"]').textContent`)

	student.do("open another page and join", chromedp.Navigate(student.url+"/learn/vgg"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="class-code"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="class-code"]`), strings.ToLower(code)),
		chromedp.Click(chromedp.CSS(`[data-testid="class-join-form"] button`), chromedp.NodeVisible))
	waitHref(t, student, student.url+"/learn#")
	teacher.do("the teacher sees a student", poll(`document.querySelector('[data-testid="class-status"]').textContent === '1 following'`))

	lesson := "/learn/basics?lang=vi&map=2&sample=08-sneaker.png"
	teacher.do("the teacher opens a lesson", chromedp.Navigate(teacher.url+lesson), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-page"]`)))
	waitHref(t, student, "sample=08-sneaker.png")
	if got := eval[string](student, `document.documentElement.lang + ' ' + document.querySelector('[data-testid="lesson-input"]').alt`); got != "vi 08-sneaker.png" {
		t.Errorf("the student sees %q", got)
	}
	if !eval[bool](student, `document.querySelector('[data-testid="classroom"]').dataset.role === 'student' && document.querySelector('[data-testid="class-follow"]').checked`) {
		t.Error("the student's page does not say it follows")
	}

	student.do("step out", chromedp.Click(chromedp.CSS(`[data-testid="class-follow"]`), chromedp.NodeVisible))
	teacher.do("the teacher moves on", chromedp.Navigate(teacher.url+"/learn/mobilenet?alpha=0.5"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="lesson-page"]`)))
	time.Sleep(1500 * time.Millisecond)
	if h := eval[string](student, `location.href`); !strings.Contains(h, "sample=08-sneaker.png") {
		t.Errorf("a student who stepped out was moved to %s", h)
	}
	student.do("come back", chromedp.Click(chromedp.CSS(`[data-testid="class-follow"]`), chromedp.NodeVisible))
	waitHref(t, student, "/learn/mobilenet?alpha=0.5")
}
