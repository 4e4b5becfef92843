package data

// Verified downloads of the IDX datasets: each .gz exactly as served,
// checked against its SHA-256 and MD5 before it is renamed into place.
// No resuming, no retries, no mirrors besides the official address. This
// is the one file of the package that speaks HTTP (as a client only).

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Client is the HTTP client Download uses. Tests and callers with their
// own transport (a proxy, a test server) replace it.
var Client = &http.Client{Timeout: 10 * time.Minute}

// maxDownload caps one file; the largest, Fashion-MNIST's training
// images, is 26,421,880 bytes.
const maxDownload = 64 << 20

// Download fetches the four .gz files of a known dataset from its official
// address into dir (CacheDir(name) when dir is ""), creating dir. Each file
// goes to a temporary file in dir, is checked against its published
// SHA-256 and MD5, and only then is renamed to its name; a file that fails
// the check is removed. Files already in dir with the right SHA-256 are
// kept. Offline, the error names the address that could not be reached.
func Download(name, dir string) error {
	ds, err := lookup(name)
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = CacheDir(name); err != nil {
			return err
		}
	}
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range ds.files {
		dst := filepath.Join(dir, f.name+".gz")
		if sum, err := fileSHA256(dst); err == nil && sum == f.sha256 {
			continue
		}
		if err := fetchVerified(ds.baseURL+f.name+".gz", dst, f); err != nil {
			if statErr != nil {
				os.Remove(dir) // ours, and still empty when nothing came
			}
			return fmt.Errorf("download %s into %s: %w", name, dir, err)
		}
	}
	return nil
}

// fetchVerified GETs url into dst through a temporary file beside it.
func fetchVerified(url, dst string, f idxFile) error {
	if f.sha256 == "" && f.md5 == "" {
		return fmt.Errorf("%s: no checksum known, refusing to download", f.name)
	}
	return download(url, dst, maxDownload, func(n int64, sha, md string) error {
		switch {
		case n > maxDownload:
			return fmt.Errorf("GET %s: more than %d bytes", url, maxDownload)
		case f.sha256 != "" && sha != f.sha256:
			return fmt.Errorf("%s: SHA-256 %s, want %s (file discarded)", url, sha, f.sha256)
		case f.md5 != "" && md != f.md5:
			return fmt.Errorf("%s: MD5 %s, want %s (file discarded)", url, md, f.md5)
		}
		return nil
	})
}

// download GETs url into dst through a temporary file beside it, reading at
// most limit+1 bytes, and renames it into place only when check accepts its
// size and hex SHA-256 and MD5; otherwise nothing is left behind.
func download(url, dst string, limit int64, check func(n int64, sha, md string) error) (err error) {
	resp, err := Client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.part")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sh, md := sha256.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, sh, md), io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if err = check(n, hex.EncodeToString(sh.Sum(nil)), hex.EncodeToString(md.Sum(nil))); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
