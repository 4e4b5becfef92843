package i18n

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The pages' text comes from the catalogues: a .templ file that writes a
// word a person reads (a text node, or a title, alt, placeholder or
// aria-label attribute) fails here, with its line. Names that read the
// same in every language are allowed (allowedWords).
func TestTemplatesHoldNoText(t *testing.T) {
	var files []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".templ") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) < 5 {
		t.Fatalf("templates found: %d (%v)", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, lit := range literalText(string(b)) {
			t.Errorf("%s:%d: %q is text for the catalogues (web/i18n/en/, vi/)", f, lit.line, lit.text)
		}
	}
}

// TestLiteralTextFinds keeps the lint honest: it finds text in each place
// text can hide, and passes what is not text.
func TestLiteralTextFinds(t *testing.T) {
	src := "package x\n\ntype T struct {\n\tName string\n}\n\ntempl A(n int) {\n\t{{\n\t\tpath := \"/x\"\n\t}}\n\t<p>{ T(ctx, \"a.b\") }</p>\n\tif n > 2 {\n\t\t<b>Hello there</b>\n\t}\n" +
		"\t<a\n\t\thref=\"/x\"\n\t\ttitle=\"Open it\"\n\t\thidden\n\t>{ x }</a>\n\t<img alt={ T(ctx, \"a.c\") } src=\"/a.png\"/>\n" +
		"\t<span>convscope · { n } × 2</span>\n\tNaked words\n\t<script>const a = 'no check';</script>\n}\n"
	var got []string
	for _, l := range literalText(src) {
		got = append(got, l.text)
	}
	want := []string{"Hello there", "Open it", "Naked words"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("found %q, want %q", got, want)
	}
}

type literal struct {
	line int
	text string
}

// allowedWords read the same in every language: the name, and notation.
var allowedWords = map[string]bool{"convscope": true, "conv": true, "scope": true, "max": true}

var (
	goStatement = regexp.MustCompile(`^(if|for|switch|case|default|else|} else|templ|func|package|import|return|var|const|type)\b|^//|^}$|^\)$|^"`)
	word        = regexp.MustCompile(`[\p{L}]{2,}`)
	textAttr    = regexp.MustCompile(`\b(title|alt|placeholder|aria-label)="([^"]*)"`)
)

// literalText lists the human-readable text written into a templ file's
// markup, skipping Go statements, { expressions }, and script and style
// elements.
func literalText(src string) []literal {
	var out []literal
	inTag, inRaw, inTempl, inGo := false, "", false, false
	report := func(line int, s string) {
		s = strings.TrimSpace(s)
		for _, w := range word.FindAllString(s, -1) {
			if !allowedWords[strings.ToLower(w)] {
				out = append(out, literal{line, s})
				return
			}
		}
	}
	for i, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(raw, "templ "):
			inTempl = true
			continue
		case raw == "}":
			inTempl = false
			continue
		case !inTempl:
			continue // Go code between the components
		case inGo:
			inGo = !strings.Contains(line, "}}")
			continue
		case strings.HasPrefix(line, "{{") && !strings.Contains(line, "}}"):
			inGo = true // a Go block over several lines
			continue
		}
		if !inTag && inRaw == "" && (goStatement.MatchString(line) || strings.HasPrefix(line, "@")) {
			continue
		}
		line = stripExpressions(line)
		var text strings.Builder
		for len(line) > 0 {
			switch {
			case inRaw != "":
				end := strings.Index(line, "</"+inRaw)
				if end < 0 {
					line = ""
					continue
				}
				line, inRaw = line[end:], ""
			case inTag:
				end := strings.IndexByte(line, '>')
				tag := line
				if end >= 0 {
					tag, line, inTag = line[:end], line[end+1:], false
				} else {
					line = ""
				}
				for _, m := range textAttr.FindAllStringSubmatch(tag, -1) {
					report(i+1, m[2])
				}
			default:
				start := strings.IndexByte(line, '<')
				if start < 0 {
					text.WriteString(line)
					line = ""
					continue
				}
				text.WriteString(line[:start])
				text.WriteByte(' ')
				line, inTag = line[start+1:], true
				for _, el := range []string{"script", "style"} {
					if strings.HasPrefix(line, el) {
						inRaw = el
					}
				}
			}
		}
		report(i+1, text.String())
	}
	return out
}

// stripExpressions removes { Go expressions } from a line of markup,
// braces inside the expressions' strings included.
func stripExpressions(s string) string {
	var b strings.Builder
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if depth == 0 {
			if c == '{' {
				depth = 1
				continue
			}
			b.WriteByte(c)
			continue
		}
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '`' || c == '\'':
			quote = c
		case c == '{':
			depth++
		case c == '}':
			depth--
		}
	}
	return b.String()
}
