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

// A form on another site cannot start a run through a visitor's browser:
// a POST whose Origin is another host is refused; the page's own (same
// host, or no Origin) passes.
func TestOtherSitesCannotStartRuns(t *testing.T) {
	m, err := NewManager(t.TempDir(), "", &added{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(New(m, "", nil).Routes())
	defer srv.Close()
	for _, c := range []struct {
		origin, site string
		code         int
	}{
		{"http://evil.example", "", http.StatusForbidden},
		{"null", "cross-site", http.StatusForbidden},
		{"http://evil.example", "same-site", http.StatusForbidden},
		{srv.URL, "", http.StatusSeeOther},
		{"null", "same-origin", http.StatusSeeOther},
		{"", "", http.StatusSeeOther},
	} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/runs", strings.NewReader("model=lenet5&data=nowhere"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.site != "" {
			req.Header.Set("Sec-Fetch-Site", c.site)
		}
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != c.code {
			t.Errorf("Origin %q, Sec-Fetch-Site %q: %d, want %d", c.origin, c.site, res.StatusCode, c.code)
		}
	}
}
