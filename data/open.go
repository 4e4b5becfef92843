package data

// Open: the one call most users need. Find, else Download, then LoadIDX.

import (
	"errors"
	"fmt"
)

// Open returns the training split (train) or the test split of a known IDX
// dataset. It looks for the files with Find(name, flagDir); when they are
// nowhere, it downloads them into CacheDir(name) with Download. When that
// fails too (offline), the error is a *NotFoundError that says where to put
// the files by hand. The Set's Classes are ClassNames(name), and a label
// outside them is an error.
func Open(name, flagDir string, train bool) (*Set, error) {
	ds, err := lookup(name)
	if err != nil {
		return nil, err
	}
	dir, err := Find(name, flagDir)
	if nf := (*NotFoundError)(nil); errors.As(err, &nf) {
		cache, cerr := CacheDir(name)
		if cerr == nil {
			cerr = Download(name, cache)
		}
		if cerr != nil {
			nf.Download = cerr
			return nil, nf
		}
		dir, err = cache, nil
	}
	if err != nil {
		return nil, err
	}
	im, lb := ds.files[testImages], ds.files[testLabels]
	if train {
		im, lb = ds.files[trainImages], ds.files[trainLabels]
	}
	s, err := LoadIDX(idxPath(dir, im.name), idxPath(dir, lb.name))
	if err != nil {
		return nil, err
	}
	s.Classes = ClassNames(name)
	for i, l := range s.Labels {
		if int(l) >= len(s.Classes) {
			return nil, fmt.Errorf("%s: label %d of sample %d is not a %s class (0..%d)", idxPath(dir, lb.name), l, i, name, len(s.Classes)-1)
		}
	}
	return s, nil
}
