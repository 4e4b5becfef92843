package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/convscope/convscope/web/catalog"
)

// -model and -models reach the catalog: the folder's checkpoints are
// listed first under their file names (a broken one logged and left out,
// other files ignored); a -model file that fails stops the server with
// its error.
func TestModelFlags(t *testing.T) {
	dir := t.TempDir()
	pth, err := os.ReadFile("../../zoo/testdata/lenet5.pth")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "my-lenet.pth"), pth, 0o644)
	os.WriteFile(filepath.Join(dir, "broken.pth"), pth[:len(pth)/2], 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a checkpoint"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	_, addr := startServer(t, "-models", dir, "-model", "lenet5="+filepath.Join(dir, "my-lenet.pth"))
	res, err := http.Get("http://" + addr + "/model")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	// -model's copy comes first; the folder's own my-lenet.pth has the
	// same name and is left out.
	if !strings.Contains(string(page), "my-lenet") || strings.Index(string(page), "my-lenet") > strings.Index(string(page), "lenet5-fashion-mnist") {
		t.Errorf("/model does not list my-lenet first:\n%.2000s", page)
	}

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := openCatalog(logger, nil, dir); err != nil {
		t.Fatalf("-models with a broken file: %v", err)
	}
	for _, bad := range []string{"resnet20=" + filepath.Join(dir, "my-lenet.pth"), filepath.Join(dir, "broken.pth"), filepath.Join(dir, "missing.pth")} {
		f, _ := parseModelFlag(bad)
		_, err := openCatalog(logger, []catalog.File{f}, "")
		if err == nil || !strings.HasPrefix(err.Error(), "-model: ") {
			t.Errorf("-model %s: %v", bad, err)
		}
	}
	if _, err := parseModelFlag("resnet18="); err == nil {
		t.Error("-model resnet18= accepted")
	}
	if _, err := openCatalog(logger, nil, filepath.Join(dir, "none")); err == nil {
		t.Error("-models of a missing folder accepted")
	}
}
