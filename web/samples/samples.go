// Package samples is the gallery of example inputs the server ships:
// PNG files under <root>/<dataset>/, named "<index>-<class>.png"
// (static/samples/fashion-mnist/07-sneaker.png). It lists and decodes
// them; it is not a dataset reader (package data is).
package samples

import (
	"fmt"
	"image"
	_ "image/png" // samples are PNG
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode"
)

// Sample is one gallery picture.
type Sample struct {
	// Dataset is the folder it lives in ("fashion-mnist").
	Dataset string
	// File is its name inside the folder ("07-sneaker.png").
	File string
	// Label is the human name derived from File ("sneaker").
	Label string
}

// URL is where the router serves the picture.
func (s Sample) URL() string { return "/samples/" + s.Dataset + "/" + s.File }

// Gallery reads samples from a file system whose top-level folders are
// dataset names.
type Gallery struct {
	fsys fs.FS
}

// New makes a gallery over fsys (for the embedded assets:
// fs.Sub(static.FS, "samples")).
func New(fsys fs.FS) *Gallery { return &Gallery{fsys: fsys} }

// FS is the file system the gallery reads, for serving the files.
func (g *Gallery) FS() fs.FS { return g.fsys }

// List returns the PNG samples of dataset, sorted by file name; none when
// the folder is missing or empty. A label that names one of classes once
// slugged ("t-shirt-top" for "T-shirt/top") is shown as that class name.
func (g *Gallery) List(dataset string, classes []string) []Sample {
	if !validName(dataset) {
		return nil
	}
	entries, err := fs.ReadDir(g.fsys, dataset)
	if err != nil {
		return nil
	}
	var out []Sample
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(path.Ext(e.Name()), ".png") {
			continue
		}
		out = append(out, Sample{Dataset: dataset, File: e.Name(), Label: ClassLabel(e.Name(), classes)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

// Open decodes sample file of dataset. Names with a path separator or
// outside the gallery are refused.
func (g *Gallery) Open(dataset, file string) (image.Image, error) {
	if !validName(dataset) || !validName(file) || !strings.EqualFold(path.Ext(file), ".png") {
		return nil, fmt.Errorf("no sample %q in %q", file, dataset)
	}
	f, err := g.fsys.Open(dataset + "/" + file)
	if err != nil {
		return nil, fmt.Errorf("no sample %q in %q", file, dataset)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("sample %s/%s: %w", dataset, file, err)
	}
	return img, nil
}

// Label turns "07-ankle-boot.png" into "ankle boot": the extension and a
// leading index are dropped, dashes and underscores become spaces.
func Label(file string) string {
	s := strings.TrimSuffix(file, path.Ext(file))
	if i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) }); i > 0 && (s[i] == '-' || s[i] == '_') {
		s = s[i+1:]
	}
	return strings.NewReplacer("-", " ", "_", " ").Replace(s)
}

// ClassLabel is Label, except that a file named after one of classes
// ("15-t-shirt-top.png" for "T-shirt/top") gets the class's own spelling.
func ClassLabel(file string, classes []string) string {
	stem := strings.TrimSuffix(file, path.Ext(file))
	if i := strings.IndexFunc(stem, func(r rune) bool { return !unicode.IsDigit(r) }); i > 0 && (stem[i] == '-' || stem[i] == '_') {
		stem = stem[i+1:]
	}
	for _, c := range classes {
		if strings.EqualFold(slug(c), stem) {
			return c
		}
	}
	return Label(file)
}

// slug spells a class name as sample files do: "T-shirt/top" -> "t-shirt-top".
func slug(s string) string {
	return strings.NewReplacer("/", "-", " ", "-", "_", "-").Replace(strings.ToLower(s))
}

// validName accepts one plain path element.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`) && fs.ValidPath(s)
}
