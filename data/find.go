package data

// Where a dataset lives on this machine. Find only looks: it never
// downloads (Download does) and never checksums what it finds (a copy on
// disk is trusted; its IDX structure is checked when it is read).

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// systemDir is where Debian's dataset packages install: dataset-fashion-mnist
// puts the four .gz files in /usr/share/datasets/fashion-mnist. Tests change it.
var systemDir = "/usr/share/datasets"

// CacheDir is where Download puts a dataset: ~/.cache/convscope/<name>,
// with ~ from $HOME.
func CacheDir(name string) (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "convscope", name), nil
}

// SearchDirs lists the directories Find tries for a dataset, in order:
// flagDir and flagDir/<name> (when flagDir is not empty),
// $CONVSCOPE_DATA/<name> and $CONVSCOPE_DATA (when set),
// ~/.cache/convscope/<name>, and /usr/share/datasets/<name>.
func SearchDirs(name, flagDir string) []string {
	var dirs []string
	add := func(d string) {
		d = filepath.Clean(d)
		for _, seen := range dirs {
			if seen == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	if flagDir != "" {
		add(flagDir)
		add(filepath.Join(flagDir, name))
	}
	if env := os.Getenv("CONVSCOPE_DATA"); env != "" {
		add(filepath.Join(env, name))
		add(env)
	}
	if cache, err := CacheDir(name); err == nil {
		add(cache)
	}
	add(filepath.Join(systemDir, name))
	return dirs
}

// Find returns the first of SearchDirs(name, flagDir) that holds all four
// files of the dataset, each raw or gzipped (train-images-idx3-ubyte or
// train-images-idx3-ubyte.gz, and so on). When none does, the error is a
// *NotFoundError that lists the directories and the files.
func Find(name, flagDir string) (string, error) {
	ds, err := lookup(name)
	if err != nil {
		return "", err
	}
	dirs := SearchDirs(name, flagDir)
	for _, dir := range dirs {
		if hasAll(ds, dir) {
			return dir, nil
		}
	}
	return "", &NotFoundError{Name: name, Searched: dirs, Files: gzNames(ds), BaseURL: ds.baseURL}
}

// hasAll reports whether dir holds each of the dataset's files.
func hasAll(ds *idxDataset, dir string) bool {
	for _, f := range ds.files {
		if idxPath(dir, f.name) == "" {
			return false
		}
	}
	return true
}

// idxPath returns dir/base, or else dir/base.gz, whichever is a regular
// file (through symlinks); "" when neither is.
func idxPath(dir, base string) string {
	for _, p := range []string{filepath.Join(dir, base), filepath.Join(dir, base+".gz")} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

func gzNames(ds *idxDataset) []string {
	var names []string
	for _, f := range ds.files {
		names = append(names, f.name+".gz")
	}
	return names
}

// NotFoundError says that a dataset is on none of the searched directories
// (and, from Open, that downloading it failed) and where to put it.
type NotFoundError struct {
	Name     string
	Searched []string // in search order
	Files    []string // the .gz names; the uncompressed names work too
	BaseURL  string   // where the files are served
	Download error    // why the download failed; nil from Find
}

// Error says what is missing, why the download failed, and lists the
// files and the directories to put them in.
func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dataset %s not found", e.Name)
	if e.Download != nil {
		fmt.Fprintf(&b, ", and downloading it failed: %v", e.Download)
	}
	fmt.Fprintf(&b, ".\nPut these files (from %s; each may also be gunzipped):\n", e.BaseURL)
	for _, f := range e.Files {
		fmt.Fprintf(&b, "    %s\n", f)
	}
	b.WriteString("into one of these directories (searched in this order):\n")
	for _, d := range e.Searched {
		fmt.Fprintf(&b, "    %s\n", d)
	}
	b.WriteString("or into a directory named by the CONVSCOPE_DATA variable or the data flag.")
	return b.String()
}
