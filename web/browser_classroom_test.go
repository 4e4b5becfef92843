package web_test

import (
	"bytes"
	"image"
	"net/http"
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

// A student whose server lacks the teacher's picture (behind a proxy, the
// teacher's page ran on another replica; here, the picture is pushed out
// of the server's store) fetches it from the class, sends it on its own
// websocket and runs it: the student sees the teacher's picture, not the
// gallery's.
func TestBrowserClassPictureOnAnotherServer(t *testing.T) {
	teacher := newBrowser(t, 1280, 900)
	tab, cancel := chromedp.NewContext(teacher.ctx)
	t.Cleanup(cancel)
	student := &browser{t: t, url: teacher.url, ctx: tab}

	teacher.do("open the explorer and start a class", chromedp.Navigate(teacher.url+"/?model=lenet5-fashion-mnist"), poll(doneJS),
		chromedp.Click(chromedp.CSS(`[data-testid="class-start"]`), chromedp.NodeVisible),
		poll(`document.querySelector('[data-testid="class-teacher-code"]').textContent.length === 6`))
	code := eval[string](teacher, `document.querySelector('[data-testid="class-teacher-code"]').textContent`)
	teacher.do("upload a picture", chromedp.SetUploadFiles(chromedp.CSS(`[data-testid="upload-input"]`), []string{paperPNG(t)}),
		poll(`new URLSearchParams(location.search).get('upload') && `+doneJS))
	id := eval[string](teacher, `new URLSearchParams(location.search).get('upload')`)
	time.Sleep(1200 * time.Millisecond) // the teacher's page sends its moves every 500 ms

	// Push the picture out of the server's store (16 pictures).
	for i := range 16 {
		img := image.NewGray(image.Rect(0, 0, 8+i, 8))
		res, err := http.Post(teacher.url+"/upload", "image/png", bytes.NewReader(pngBytes(t, img)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	student.do("join", chromedp.Navigate(student.url+"/learn"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="class-code"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="class-code"]`), code),
		chromedp.Click(chromedp.CSS(`[data-testid="class-join-form"] button`), chromedp.NodeVisible))
	waitHref(t, student, "upload="+id)
	student.do("run the teacher's picture", poll(`new URLSearchParams(location.search).get('upload') === '`+id+`' && `+doneJS+
		` && document.querySelector('[data-testid="input-note"]').textContent.includes('your picture')`))
}
