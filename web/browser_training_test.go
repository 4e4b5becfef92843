package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/train/recipe"
	"github.com/convscope/convscope/web"
	"github.com/convscope/convscope/web/training"
)

// The live training page: a short LeNet-5 run started from the form draws
// its curves, filters and probe maps as it goes; it pauses, resumes and
// stops from its buttons, and its weights open in the explorer.
func TestBrowserTraining(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	b := newBrowserWith(t, 1280, 1000, withTraining(t, func(runs *training.Manager) { runs.PictureEvery = 0 }))
	b.do("open the page", chromedp.Navigate(b.url+"/train"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="train-form"]`)))
	b.do("write the recipe", chromedp.SetValue(chromedp.CSS(`[data-testid="train-epochs"]`), "3"),
		chromedp.SetValue(chromedp.CSS(`[data-testid="train-limit"]`), "6400"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="train-form"]').requestSubmit()`))
	b.do("see it run", chromedp.WaitVisible(chromedp.CSS(`#live`)),
		poll(`Number(document.querySelector('#live').dataset.steps || 0) >= 3 && Number(document.querySelector('#live').dataset.filters || 0) >= 2 && document.querySelector('[data-testid="train-probe"]').src.startsWith('data:image/png')`))
	if n := eval[int](b, `document.querySelectorAll('[data-testid="train-loss"] polyline').length`); n != 1 {
		t.Errorf("%d loss curves drawn", n)
	}
	b.do("pause", chromedp.Click(chromedp.CSS(`[data-testid="train-pause"]`), chromedp.NodeVisible))
	b.do("paused", poll(`document.querySelector('#live').dataset.state === 'paused'`))
	if !eval[bool](b, `document.querySelector('[data-testid="train-pause"]').disabled && !document.querySelector('[data-testid="train-resume"]').disabled`) {
		t.Error("a paused run's buttons do not offer resume only")
	}
	b.do("resume", chromedp.Click(chromedp.CSS(`[data-testid="train-resume"]`), chromedp.NodeVisible))
	b.do("running again", poll(`document.querySelector('#live').dataset.state === 'running' && Number(document.querySelector('#live').dataset.steps || 0) >= 1`))
	b.do("stop", chromedp.Click(chromedp.CSS(`[data-testid="train-stop"]`), chromedp.NodeVisible))
	b.do("stopped", poll(`document.querySelector('#live').dataset.state === 'stopped' && !document.querySelector('[data-testid="train-explore"]').hidden`))
	b.screenshot("training")
	href := eval[string](b, `document.querySelector('[data-testid="train-explore"]').getAttribute('href')`)
	if !strings.HasPrefix(href, "/?model=trained-lenet5-") {
		t.Fatalf("the explorer link is %q", href)
	}
	b.do("open it in the explorer", chromedp.Navigate(b.url+href), poll(doneJS), poll(readyJS))
	if sel := eval[string](b, `document.querySelector('[data-testid="model-select"]').value`); !strings.HasPrefix(sel, "trained-lenet5-") {
		t.Errorf("the explorer shows %q", sel)
	}
}

// The explorer's epoch slider: a finished run that kept its weights after
// each epoch shows the same picture through each epoch's weights, chosen
// with the keyboard alone, and the URL names the snapshot.
func TestBrowserEpochSlider(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	var runs *training.Manager
	b := newBrowserWith(t, 1280, 1000, withTraining(t, func(m *training.Manager) { runs, m.PictureEvery = m, 0 }))
	rec := recipe.Default("lenet5")
	rec.Epochs, rec.Limit = 2, 640
	run, err := runs.Start(rec)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for st, msg, _ := run.Status(); st != training.Finished; st, msg, _ = run.Status() {
		if st == training.Failed || time.Now().After(deadline) {
			t.Fatalf("run %s: %s %s", run.ID, st, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, _, result := run.Status()
	b.do("open the run in the explorer", chromedp.Navigate(b.url+"/?model="+result+"&sample=00-ankle-boot.png"), poll(doneJS), poll(readyJS),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="epoch-slider"]`)))
	if got := eval[string](b, `document.querySelector('[data-testid="epoch-value"]').textContent`); !strings.HasPrefix(got, "at the end of training") {
		t.Errorf("the slider starts at %q, want the final weights", got)
	}
	b.do("slide back to epoch 1 with the keyboard", chromedp.Focus(chromedp.CSS(`[data-testid="epoch-range"]`)),
		chromedp.KeyEvent(kb.Home),
		poll(`document.querySelector('[data-testid="app"]').dataset.run === '2' && `+doneJS+` && `+readyJS))
	if got := eval[string](b, `document.querySelector('[data-testid="epoch-value"]').textContent`); !strings.HasPrefix(got, "after epoch 1") {
		t.Errorf("the slider says %q, want after epoch 1", got)
	}
	if u := eval[string](b, `decodeURIComponent(location.search)`); !strings.Contains(u, "model="+result+"@epoch-1") {
		t.Errorf("the URL %q does not name the snapshot", u)
	}
	if sel := eval[string](b, `document.querySelector('[data-testid="model-select"]').value`); sel != result {
		t.Errorf("the menu shows %q, want the run %q", sel, result)
	}
	b.screenshot("epoch-slider")
	b.do("and on to epoch 2", chromedp.KeyEvent(kb.ArrowRight),
		poll(`document.querySelector('[data-testid="app"]').dataset.run === '3' && `+doneJS+` && `+readyJS))
	if got := eval[string](b, `document.querySelector('[data-testid="epoch-value"]').textContent`); !strings.HasPrefix(got, "after epoch 2") {
		t.Errorf("the slider says %q, want after epoch 2", got)
	}
	b.do("reload the snapshot's URL", chromedp.Reload(), poll(doneJS), poll(readyJS))
	if got := eval[string](b, `document.querySelector('[data-testid="epoch-value"]').textContent`); !strings.HasPrefix(got, "after epoch 2") {
		t.Errorf("after a reload the slider says %q", got)
	}
}

// Choosing a model on the training page fills the form with that model's
// recipe (recipe.Default): ConvNeXt-mini's AdamW, batch, crop padding and
// random erasing, then LeNet-5's plain SGD without them.
func TestBrowserTrainingDefaults(t *testing.T) {
	b := newBrowserWith(t, 1280, 1000, withTraining(t, nil))
	b.do("open the page", chromedp.Navigate(b.url+"/train"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="train-form"]`)))
	fields := `['opt', 'lr', 'batch', 'epochs', 'crop_padding', 'erase', 'smoothing'].map((n) => document.querySelector('[data-testid="train-form"] [name="' + n + '"]').value).join(' ')`
	choose := func(model string) string {
		b.do("choose "+model, chromedp.SetValue(chromedp.CSS(`[data-testid="train-form"] [name="model"]`), model),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="train-form"] [name="model"]').dispatchEvent(new Event('change'))`))
		return eval[string](b, fields)
	}
	if got, want := choose("convnext_mini"), "adamw 0.006 128 26 1 0.5 0.1"; got != want {
		t.Errorf("ConvNeXt-mini's form reads %q, want %q", got, want)
	}
	if got, want := choose("lenet5"), "sgd 0.05 64 20 0 0 0"; got != want {
		t.Errorf("LeNet-5's form reads %q, want %q", got, want)
	}
}

// withTraining gives a browser's server a training manager of its own, in
// a temporary folder and closed when the test ends; adjust, when not nil,
// sees it first.
func withTraining(t *testing.T, adjust func(*training.Manager)) func(*web.Deps) {
	return func(d *web.Deps) {
		runs, err := training.NewManager(t.TempDir(), "", d.Catalog, nil)
		if err != nil {
			t.Fatal(err)
		}
		if adjust != nil {
			adjust(runs)
		}
		t.Cleanup(runs.Close)
		d.Training = runs
	}
}
