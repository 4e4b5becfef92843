// Package version says which build of convscope is running: the release
// version (written in at link time by deploy/release.sh), the commit it was
// built from and the Go version, as `convscope version` prints them.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release, set at link time:
//
//	go build -ldflags "-X github.com/convscope/convscope/version.Version=v1.2.0" ./cmd/server
//
// Empty in a development build, which Get reports as "devel".
var Version string

// Commit is the commit, set at link time the same way where the toolchain
// does not stamp it (-buildvcs=false, or no git at build time).
var Commit string

// Info is a build's identity.
type Info struct {
	// Version is the release ("v1.2.0") or "devel".
	Version string `json:"version"`
	// Commit is the Git commit built ("unknown" outside a Git checkout);
	// Modified says the work tree had uncommitted changes.
	Commit   string `json:"commit"`
	Modified bool   `json:"modified,omitempty"`
	// Time is the commit's time (RFC 3339), when known.
	Time string `json:"time,omitempty"`
	// Go is the Go version that built it, and Platform its GOOS/GOARCH.
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// Get reads the build's identity from Version and the build information
// the Go toolchain embeds (runtime/debug.ReadBuildInfo).
func Get() Info {
	i := Info{Version: Version, Commit: Commit, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version // go install …@v1.2.0
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Commit = s.Value
			case "vcs.time":
				i.Time = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}

// String is the one line `convscope version` prints:
// "convscope v1.2.0 (commit 2878173…, 2026-12-01T…) go1.26.8 linux/amd64".
func (i Info) String() string {
	commit := i.Commit
	if i.Modified {
		commit += "+modified"
	}
	if i.Time != "" {
		commit += ", " + i.Time
	}
	return fmt.Sprintf("convscope %s (commit %s) %s %s", i.Version, commit, i.Go, i.Platform)
}
