package main

import (
	"html"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/static"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/experiments"
	gallery "github.com/convscope/convscope/web/samples"
)

// commandLine finds the command an experiment page prints.
var commandLine = regexp.MustCompile(`data-testid="command-line">From the command line: <code>([^<]*)</code>`)

// Each experiment page's "from the command line" runs as printed (from
// the repository's root, where its paths point) and draws its figure.
func TestPageCommandsRun(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	sampleFS, err := fs.Sub(static.FS, "samples")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(experiments.New(cat, gallery.New(sampleFS), "", t.TempDir()).Routes())
	defer srv.Close()
	out := t.TempDir()
	t.Chdir("../..")
	for _, page := range []string{
		"/topk?model=zfnet-small-fashion-mnist&layer=features.4",
		"/filters?model=zfnet-small-fashion-mnist",
		"/invariance?model=lenet5-fashion-mnist&kind=rotate",
		"/occlusion?model=resnet20-fashion-mnist&sample=04-shirt.png",
		"/correspondence?model=lenet5-fashion-mnist&class=7",
	} {
		res, err := srv.Client().Get(srv.URL + page)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := commandLine.FindSubmatch(body)
		if m == nil {
			t.Errorf("%s prints no command", page)
			continue
		}
		args := strings.Fields(html.UnescapeString(string(m[1])))
		if args[0] != "convscope" || commands[args[1]].run == nil {
			t.Errorf("%s: %q is not a convscope command", page, m[1])
			continue
		}
		for i, a := range args {
			if i > 0 && args[i-1] == "-out" {
				args[i] = filepath.Join(out, a)
			}
		}
		if args[1] == "topk" {
			args = append(args, "-cache", "off", "-limit", "500")
		}
		if _, err := run(t, args[1], args[2:]...); err != nil {
			t.Errorf("%s: %s: %v", page, strings.Join(args, " "), err)
		}
	}
	for _, want := range []string{"fig2.png", "fig6.png", "fig7.png", "charts"} {
		if _, err := os.Stat(filepath.Join(out, want)); err != nil {
			t.Errorf("no %s drawn: %v", want, err)
		}
	}
}
