package training

import (
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/train/recipe"
)

// The dataset menu lists the image folders under -data-dir, and a run
// can only be started on a dataset the menu lists: a form naming any
// other folder is refused before anything is read.
func TestDatasetsAndRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, class := range []string{"cats", "dogs"} {
		if err := os.MkdirAll(filepath.Join(dir, "pets", class), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, "pets", class, "a.png"))
		if err != nil {
			t.Fatal(err)
		}
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		img.Set(1, 1, color.White)
		_ = png.Encode(f, img)
		f.Close()
	}
	if err := os.MkdirAll(filepath.Join(dir, "lonely", "only"), 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(t.TempDir(), dir, &added{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	h := New(m, dir, nil)
	got := h.datasets()
	if !slices.Contains(got, "folder:"+filepath.Join(dir, "pets")) || slices.Contains(got, "folder:"+filepath.Join(dir, "lonely")) {
		t.Errorf("datasets %v", got)
	}
	srv := httptest.NewServer(h.Routes())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"model": {"lenet5"}, "data": {"folder:/etc"}}, "is not on this server"},
		{url.Values{"model": {"lenet5"}, "data": {"fashion-mnist"}, "epochs": {"0"}}, "0 epochs"},
		{url.Values{"model": {"lenet5"}, "data": {"fashion-mnist"}, "lr": {"fast"}}, "not a number: lr"},
	} {
		res, err := client.PostForm(srv.URL+"/runs", c.form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.QueryUnescape(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "problem=") || !strings.Contains(loc, c.want) {
			t.Errorf("%v: %d %q, want a problem saying %q", c.form, res.StatusCode, loc, c.want)
		}
	}
	if len(m.Runs()) != 0 {
		t.Errorf("%d runs started from bad forms", len(m.Runs()))
	}
}

// The form's crop padding reaches the recipe; a model's default comes
// with the model (ConvNeXt-mini's 1), a padding past 16 is refused, and
// an augmentation without the crop drops the padding instead of refusing
// the run.
func TestFormCropPadding(t *testing.T) {
	read := func(form url.Values) (int, error) {
		req := httptest.NewRequest("POST", "/runs", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec, err := recipeOf(req)
		return rec.CropPadding, err
	}
	for _, c := range []struct {
		form url.Values
		want int
		err  string
	}{
		{url.Values{"model": {"convnext_mini"}, "data": {"fashion-mnist"}}, 1, ""},
		{url.Values{"model": {"resnet20"}, "data": {"fashion-mnist"}}, 0, ""},
		{url.Values{"model": {"resnet20"}, "data": {"fashion-mnist"}, "crop_padding": {"1"}}, 1, ""},
		{url.Values{"model": {"convnext_mini"}, "data": {"fashion-mnist"}, "augment": {"flip"}, "crop_padding": {"2"}}, 0, ""},
		{url.Values{"model": {"resnet20"}, "data": {"fashion-mnist"}, "crop_padding": {"17"}}, 17, "crop padding 17"},
	} {
		got, err := read(c.form)
		if got != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%v: padding %d, %v; want %d, %q", c.form, got, err, c.want, c.err)
		}
	}
}

// The form's average of the weights reaches the recipe, and a decay of 1
// or more (an average that never moves) is refused with the recipe's words.
func TestFormEMA(t *testing.T) {
	for _, c := range []struct {
		ema  string
		want float64
		err  string
	}{
		{"", recipe.Default("resnet20").EMA, ""},
		{"0.9995", 0.9995, ""},
		{"0", 0, ""},
		{"1", 1, "EMA decay 1"},
		{"much", 0, "ema"},
	} {
		form := url.Values{"model": {"resnet20"}, "data": {"fashion-mnist"}}
		if c.ema != "" {
			form.Set("ema", c.ema)
		}
		req := httptest.NewRequest("POST", "/runs", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec, err := recipeOf(req)
		if rec.EMA != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("ema %q: %g, %v; want %g, %q", c.ema, rec.EMA, err, c.want, c.err)
		}
	}
}

// The form's random erasing reaches the recipe; a probability above 1 is
// refused with the recipe's words.
func TestFormErase(t *testing.T) {
	for _, c := range []struct {
		erase string
		want  float64
		err   string
	}{
		{"", recipe.Default("convnext_mini").Erase, ""},
		{"0.25", 0.25, ""},
		{"2", 2, "erasing probability 2"},
		{"some", 0, "erase"},
	} {
		form := url.Values{"model": {"convnext_mini"}, "data": {"fashion-mnist"}}
		if c.erase != "" {
			form.Set("erase", c.erase)
		}
		req := httptest.NewRequest("POST", "/runs", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec, err := recipeOf(req)
		if rec.Erase != c.want || (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("erase %q: %g, %v; want %g, %q", c.erase, rec.Erase, err, c.want, c.err)
		}
	}
}
