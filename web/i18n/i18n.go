// Package i18n holds the text a person reads on the pages, one catalogue
// per language (en/, vi/: English and Vietnamese, the seed tutorial's
// language), each kept in one JSON file per part of the app (layout.json,
// learn.json, explore.json, ...), and picks the reader's language: the URL's
// ?lang= first (so a link keeps it), then the browser's Accept-Language,
// then English. Templates never hold the text itself: they ask for it by
// key, T(ctx, "nav.train"), and a test fails when a key is missing from
// either catalogue.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Lang is a language the pages are written in.
type Lang string

const (
	// English is the default.
	English Lang = "en"
	// Vietnamese is the seed tutorial's language.
	Vietnamese Lang = "vi"
)

// Langs are the languages there are catalogues for, the default first.
var Langs = []Lang{English, Vietnamese}

// Name is the language's name in itself, for the switch.
func (l Lang) Name() string {
	if l == Vietnamese {
		return "Tiếng Việt"
	}
	return "English"
}

//go:embed en/*.json vi/*.json
var files embed.FS

// catalogues maps each language to its messages by key: the union of the
// language's files, where a key may appear only once.
var catalogues = func() map[Lang]map[string]string {
	out := map[Lang]map[string]string{}
	for _, l := range Langs {
		m, err := load(files, string(l))
		if err != nil {
			panic(err)
		}
		out[l] = m
	}
	return out
}()

// load merges the JSON files of directory dir in fsys into one catalogue.
func load(fsys fs.FS, dir string) (map[string]string, error) {
	names, err := fs.Glob(fsys, dir+"/*.json")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("i18n: no catalogue files in %s/", dir)
	}
	all, from := map[string]string{}, map[string]string{}
	for _, name := range names {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %v", name, err)
		}
		for k, v := range m {
			if prev, ok := from[k]; ok {
				return nil, fmt.Errorf("i18n: %q is in both %s and %s", k, prev, name)
			}
			all[k], from[k] = v, name
		}
	}
	return all, nil
}

// Keys lists a catalogue's keys, sorted.
func Keys(l Lang) []string {
	var out []string
	for k := range catalogues[l] {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Message is the raw text of key in l ("" when missing).
func Message(l Lang, key string) string { return catalogues[l][key] }

type ctxKey struct{}

// state is what a request carries: its language and whether the URL chose
// it (then links keep ?lang=).
type state struct {
	lang     Lang
	explicit bool
	url      *url.URL
}

// Parse reads a language code ("vi", "vi-VN", "en-GB"), reporting whether
// it is one of Langs.
func Parse(code string) (Lang, bool) {
	code = strings.ToLower(strings.TrimSpace(code))
	base, _, _ := strings.Cut(code, "-")
	for _, l := range Langs {
		if base == string(l) {
			return l, true
		}
	}
	return English, false
}

// Negotiate picks r's language: ?lang=, then the first language of
// Accept-Language there is a catalogue for, then English. explicit says
// the URL chose it.
func Negotiate(r *http.Request) (l Lang, explicit bool) {
	if l, ok := Parse(r.URL.Query().Get("lang")); ok {
		return l, true
	}
	best, bestQ := English, -1.0
	for i, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		if i >= 16 {
			break // a header is short; a long one is not read to its end
		}
		code, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				continue
			}
		}
		if l, ok := Parse(code); ok && q > bestQ {
			best, bestQ = l, q
		}
	}
	return best, false
}

// Middleware puts the request's language in its context (for T, Of and
// Href) and says so in Content-Language.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, explicit := Negotiate(r)
		w.Header().Set("Content-Language", string(l))
		w.Header().Add("Vary", "Accept-Language")
		next.ServeHTTP(w, r.WithContext(With(r.Context(), l, explicit, r.URL)))
	})
}

// With returns ctx carrying language l (explicit: chosen in the URL) and
// the page's URL, for tests and for code outside a request.
func With(ctx context.Context, l Lang, explicit bool, u *url.URL) context.Context {
	return context.WithValue(ctx, ctxKey{}, state{l, explicit, u})
}

func stateOf(ctx context.Context) state {
	if s, ok := ctx.Value(ctxKey{}).(state); ok {
		return s
	}
	return state{lang: English}
}

// Of is ctx's language (English when none was set).
func Of(ctx context.Context) Lang { return stateOf(ctx).lang }

// T is key's text in ctx's language, formatted with args as fmt.Sprintf
// does; a key missing from that catalogue falls back to English, then to
// the key itself (the catalogue test keeps both from happening).
func T(ctx context.Context, key string, args ...any) string {
	return Tr(Of(ctx), key, args...)
}

// Tr is T for a language given directly.
func Tr(l Lang, key string, args ...any) string {
	msg, ok := catalogues[l][key]
	if !ok {
		if msg, ok = catalogues[English][key]; !ok {
			msg = key
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Href is an internal link that keeps the language when the URL chose it:
// "/train" becomes "/train?lang=vi".
func Href(ctx context.Context, path string) string {
	s := stateOf(ctx)
	if !s.explicit {
		return path
	}
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	q.Set("lang", string(s.lang))
	u.RawQuery = q.Encode()
	return u.String()
}

// Switch is the current page's URL in language l, for the language switch.
func Switch(ctx context.Context, l Lang) string {
	s := stateOf(ctx)
	if s.url == nil {
		return "?lang=" + string(l)
	}
	u := *s.url
	q := u.Query()
	q.Set("lang", string(l))
	u.RawQuery = q.Encode()
	u.Scheme, u.Host, u.User = "", "", nil
	return u.RequestURI()
}

// ScriptPrefix begins the keys of the messages the page's scripts show
// (static/js/i18n.js reads them); they fill {name} placeholders instead of
// Go's formatting verbs.
const ScriptPrefix = "js."

// ScriptMessages are ctx's language's script messages by key, for the
// layout to hand to the page's scripts.
func ScriptMessages(ctx context.Context) map[string]string {
	l := Of(ctx)
	out := map[string]string{}
	for k := range catalogues[English] {
		if strings.HasPrefix(k, ScriptPrefix) {
			out[k] = Tr(l, k)
		}
	}
	return out
}

// In is Tr bound to language l, for code that takes its words as a
// function (experiment.Say: the figures' labels).
func In(l Lang) func(key string, args ...any) string {
	return func(key string, args ...any) string { return Tr(l, key, args...) }
}
