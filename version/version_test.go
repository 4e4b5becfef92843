package version

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// A test binary has no VCS stamp; a binary built by go build in the
// checkout has, and says its commit, its Go and the version linked in.
func TestBuiltBinarySaysItsCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a Git checkout:", err)
	}
	bin := t.TempDir() + "/convscope"
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "-ldflags", "-X github.com/convscope/convscope/version.Version=v9.8.7", "../cmd/convscope")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(out))
	for _, want := range []string{"convscope v9.8.7 ", "commit " + strings.TrimSpace(string(head)), runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(line, want) {
			t.Errorf("convscope version says %q, want it to hold %q", line, want)
		}
	}
}

func TestDevelopmentBuild(t *testing.T) {
	i := Get()
	if i.Version != "devel" || i.Go != runtime.Version() {
		t.Errorf("a test binary: %+v, want version devel and %s", i, runtime.Version())
	}
	if s := (Info{Version: "v1", Commit: "abc", Modified: true, Go: "go1", Platform: "linux/arm64"}).String(); s != "convscope v1 (commit abc+modified) go1 linux/arm64" {
		t.Errorf("String: %q", s)
	}
}
