package i18n

import (
	"context"
	"io/fs"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// Both catalogues hold the same keys, and each message takes the same
// arguments in both languages.
func TestCataloguesAgree(t *testing.T) {
	en, vi := Keys(English), Keys(Vietnamese)
	for _, k := range en {
		if _, ok := slices.BinarySearch(vi, k); !ok {
			t.Errorf("vi/ lacks %q", k)
		}
	}
	for _, k := range vi {
		if _, ok := slices.BinarySearch(en, k); !ok {
			t.Errorf("en/ lacks %q", k)
		}
	}
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	for _, k := range en {
		a, b := verbs.FindAllString(Message(English, k), -1), verbs.FindAllString(Message(Vietnamese, k), -1)
		if !slices.Equal(a, b) {
			t.Errorf("%s: English takes %v, Vietnamese %v", k, a, b)
		}
		for _, v := range append(a, b...) {
			if !plainVerb.MatchString(v) {
				t.Errorf("%s: %q reads as a formatting verb (write %%%% for a percent sign)", k, v)
			}
		}
		if strings.TrimSpace(Message(Vietnamese, k)) == "" {
			t.Errorf("%s: empty in Vietnamese", k)
		}
	}
}

// plainVerb are the formatting verbs the catalogues use.
var plainVerb = regexp.MustCompile(`^%(%|s|d|g|\.[0-9]f)$`)

// usedKey finds the keys the code names: a string literal that begins
// with a catalogue's section ("nav.train", "lesson.vgg.title").
var usedKey = func() *regexp.Regexp {
	sections := map[string]bool{}
	for _, k := range Keys(English) {
		s, _, _ := strings.Cut(k, ".")
		sections[s] = true
	}
	var alt []string
	for s := range sections {
		alt = append(alt, regexp.QuoteMeta(s))
	}
	slices.Sort(alt)
	return regexp.MustCompile(`"((?:` + strings.Join(alt, "|") + `)(?:\.[a-z0-9_]+)+)"`)
}()

// Every key the code or the templates ask for is in the catalogues.
func TestEveryKeyUsedExists(t *testing.T) {
	root := filepath.Join("..", "..") // the web rooms, and the packages that draw figures for them
	found := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".templ") || strings.HasSuffix(path, ".go")) || strings.HasSuffix(path, "_templ.go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range usedKey.FindAllStringSubmatch(string(b), -1) {
			found++
			if Message(English, m[1]) == "" {
				t.Errorf("%s asks for %q, in no catalogue", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 20 {
		t.Fatalf("found only %d uses of T: the pattern no longer matches the code", found)
	}
}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		url, accept string
		want        Lang
		explicit    bool
	}{
		{"/", "", English, false},
		{"/", "vi-VN,vi;q=0.9,en;q=0.8", Vietnamese, false},
		{"/", "fr, en;q=0.5, vi;q=0.7", Vietnamese, false},
		{"/", "de", English, false},
		{"/?lang=vi", "en", Vietnamese, true},
		{"/?lang=xx", "vi", Vietnamese, false},
		{"/?lang=EN", "vi", English, true},
	} {
		r := httptest.NewRequest("GET", c.url, nil)
		r.Header.Set("Accept-Language", c.accept)
		if l, ex := Negotiate(r); l != c.want || ex != c.explicit {
			t.Errorf("%s with %q: %s (explicit %v), want %s (%v)", c.url, c.accept, l, ex, c.want, c.explicit)
		}
	}
}

func TestLinksKeepTheLanguage(t *testing.T) {
	u, _ := url.Parse("/learn/basics?sample=a.png&lang=vi")
	ctx := With(context.Background(), Vietnamese, true, u)
	if got := Href(ctx, "/train?run=1"); got != "/train?lang=vi&run=1" {
		t.Errorf("Href %q", got)
	}
	if got := Switch(ctx, English); got != "/learn/basics?lang=en&sample=a.png" {
		t.Errorf("Switch %q", got)
	}
	if got := Href(With(context.Background(), Vietnamese, false, u), "/train"); got != "/train" {
		t.Errorf("a negotiated language added to links: %q", got)
	}
	if got := T(ctx, "nav.learn"); got != "Bài học" {
		t.Errorf("T %q", got)
	}
	if got := T(context.Background(), "learn.next", "VGG"); got != "Next: VGG" {
		t.Errorf("T without a language: %q", got)
	}
}

// A key written in two files of one language is refused, naming both.
func TestLoadRefusesDuplicates(t *testing.T) {
	fsys := fstest.MapFS{
		"en/a.json": {Data: []byte(`{"x.one": "1"}`)},
		"en/b.json": {Data: []byte(`{"x.one": "again"}`)},
	}
	if _, err := load(fsys, "en"); err == nil || !strings.Contains(err.Error(), "en/a.json") || !strings.Contains(err.Error(), "en/b.json") {
		t.Errorf("duplicate key: %v", err)
	}
	fsys["en/b.json"] = &fstest.MapFile{Data: []byte(`{"x.two": "2"}`)}
	m, err := load(fsys, "en")
	if err != nil || m["x.one"] != "1" || m["x.two"] != "2" {
		t.Errorf("two files: %v %v", m, err)
	}
	fsys["en/c.json"] = &fstest.MapFile{Data: []byte(`{"x.three": 3}`)}
	if _, err := load(fsys, "en"); err == nil || !strings.Contains(err.Error(), "en/c.json") {
		t.Errorf("a number for a message: %v", err)
	}
}

// scriptKey finds the keys the page's scripts ask for: t('js.…').
var scriptKey = regexp.MustCompile(`\bt\(\s*'([^']+)'`)

// Every key a script asks for is a script message in the catalogues, and
// each script message fills the same {placeholders} in both languages.
func TestScriptKeysExist(t *testing.T) {
	dir := filepath.Join("..", "..", "static", "js")
	files, err := filepath.Glob(filepath.Join(dir, "*.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in %s: %v", dir, err)
	}
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range scriptKey.FindAllStringSubmatch(string(b), -1) {
			found++
			if !strings.HasPrefix(m[1], ScriptPrefix) {
				t.Errorf("%s asks for %q: script messages begin with %q", f, m[1], ScriptPrefix)
			} else if Message(English, m[1]) == "" {
				t.Errorf("%s asks for %q, in no catalogue", f, m[1])
			}
		}
	}
	if found == 0 {
		t.Fatal("no t('js.…') call found: the pattern no longer matches the scripts")
	}
	holes := regexp.MustCompile(`\{\w+\}`)
	for _, k := range Keys(English) {
		if !strings.HasPrefix(k, ScriptPrefix) {
			continue
		}
		a, b := holes.FindAllString(Message(English, k), -1), holes.FindAllString(Message(Vietnamese, k), -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Errorf("%s: English fills %v, Vietnamese %v", k, a, b)
		}
	}
	vi := ScriptMessages(With(context.Background(), Vietnamese, true, nil))
	if vi["js.class.bad_code"] != Message(Vietnamese, "js.class.bad_code") || len(vi) == 0 {
		t.Errorf("ScriptMessages in Vietnamese: %v", vi)
	}
	for k := range vi {
		if !strings.HasPrefix(k, ScriptPrefix) {
			t.Errorf("ScriptMessages hands the scripts %q", k)
		}
	}
}
