package data

// The CIFAR binary reader: the "binary version" Krizhevsky distributes
// (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz), not the Python pickle
// or MATLAB versions. A file is records and nothing else, no header:
//
//	CIFAR-10:  <label> <3072 pixels>            3073 bytes, label 0..9
//	CIFAR-100: <coarse> <fine> <3072 pixels>    3074 bytes, 0..19, 0..99
//
// The pixels are the red plane, then green, then blue, each 32x32
// row-major: already the (3,32,32) layout of a model's input. Every label
// byte of every record is range-checked (the only corruption a headerless
// format shows), and a file must be a whole number of records. A file may
// also be gzipped (told by its magic bytes, as IDX files are: a raw file
// never starts with 0x1f, which is no CIFAR label).

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// CIFARFormat says which CIFAR binary layout a file has and which label to
// keep.
type CIFARFormat int

const (
	// CIFAR10 records are 1 label byte (0..9) and 3072 pixel bytes.
	CIFAR10 CIFARFormat = iota
	// CIFAR100 records are a coarse (0..19) and a fine (0..99) label byte
	// and 3072 pixel bytes; the fine label is kept.
	CIFAR100
	// CIFAR100Coarse reads CIFAR-100 records and keeps the coarse label.
	CIFAR100Coarse
)

// CIFAR pictures are 3x32x32.
const (
	cifarSide = 32
	cifarPix  = 3 * cifarSide * cifarSide
)

// MaxCIFARBytes caps the (decompressed) size of one CIFAR file: CIFAR-100's
// train.bin, the largest, is 153,700,000 bytes.
const MaxCIFARBytes = 1 << 28

// labelBytes is the number of label bytes before each record's pixels.
func (f CIFARFormat) labelBytes() int {
	if f == CIFAR10 {
		return 1
	}
	return 2
}

// String is the format's name.
func (f CIFARFormat) String() string {
	switch f {
	case CIFAR10:
		return "CIFAR-10"
	case CIFAR100:
		return "CIFAR-100"
	case CIFAR100Coarse:
		return "CIFAR-100 (coarse labels)"
	}
	return fmt.Sprintf("CIFARFormat(%d)", int(f))
}

// RecordSize is the length of one record in bytes: 3073 for CIFAR-10, 3074
// for CIFAR-100.
func (f CIFARFormat) RecordSize() int { return f.labelBytes() + cifarPix }

// ReadCIFAR reads one CIFAR binary file (raw or gzip) of the given format
// and returns its pictures as a (N,3,32,32) ImageSet with no class names.
// A stream that ends inside a record is a *TruncatedError (wrapped) giving
// the byte offset; a label out of range is an error giving the record and
// its offset.
func ReadCIFAR(r io.Reader, f CIFARFormat) (*ImageSet, error) {
	s := &ImageSet{C: 3, H: cifarSide, W: cifarSide}
	if err := readCIFAR(r, "cifar", f, 0, s); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadCIFAR reads CIFAR binary files of one format, in order, into one
// (N,3,32,32) ImageSet with no class names (CIFAR-10's training split is
// data_batch_1.bin ... data_batch_5.bin). Errors name the file.
func LoadCIFAR(f CIFARFormat, paths ...string) (*ImageSet, error) {
	// Room for every record when the files are raw (a gzipped file is
	// smaller than its records, and the slices grow past this guess).
	var total int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			total += min(fi.Size(), MaxCIFARBytes)
		}
	}
	n := int(total / int64(f.RecordSize()))
	s := &ImageSet{C: 3, H: cifarSide, W: cifarSide, Pix: make([]uint8, 0, n*cifarPix), Labels: make([]int, 0, n)}
	for _, p := range paths {
		err := withFile(p, func(file *os.File) error {
			var size int64
			if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
				size = fi.Size()
			}
			return readCIFAR(file, p, f, size, s)
		})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// readCIFAR appends the records of one file to s. size is the file's size
// when known (0 otherwise): a raw file whose size is not a whole number of
// records is refused before anything is read.
func readCIFAR(r io.Reader, name string, f CIFARFormat, size int64, s *ImageSet) error {
	rec := int64(f.RecordSize())
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	head, _ := br.Peek(2)
	gz := len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b
	if gz {
		z, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s: gzip: %w", name, err)
		}
		src = z
	} else if size > 0 && size%rec != 0 {
		return cutRecord(name, size, rec, f)
	}
	buf := make([]byte, rec)
	var off int64
	for {
		n, err := io.ReadFull(src, buf)
		if errors.Is(err, io.EOF) && n == 0 {
			break
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return cutRecord(name, off+int64(n), rec, f)
		}
		if err != nil {
			return fmt.Errorf("%s: at byte %d: %w", name, off+int64(n), err)
		}
		label, err := f.label(buf, name, off, off/rec)
		if err != nil {
			return err
		}
		s.Labels = append(s.Labels, label)
		s.Pix = append(s.Pix, buf[f.labelBytes():]...)
		s.N++
		if off += rec; off > MaxCIFARBytes {
			return fmt.Errorf("%s: more than %d bytes, too large for a CIFAR file", name, MaxCIFARBytes)
		}
	}
	if off == 0 {
		return fmt.Errorf("%s: no %s records (the file is empty)", name, f)
	}
	return nil
}

// classes is the number of classes of the label the format keeps.
func (f CIFARFormat) classes() int {
	switch f {
	case CIFAR10:
		return 10
	case CIFAR100Coarse:
		return 20
	}
	return 100
}

// label checks the label bytes of the record at byte off (every one, for
// CIFAR-100 both the coarse and the fine) and returns the one f keeps.
func (f CIFARFormat) label(rec []byte, name string, off, record int64) (int, error) {
	if f == CIFAR10 {
		if rec[0] >= 10 {
			return 0, badLabel(name, off, record, "label", int(rec[0]), 10)
		}
		return int(rec[0]), nil
	}
	if rec[0] >= 20 {
		return 0, badLabel(name, off, record, "coarse label", int(rec[0]), 20)
	}
	if rec[1] >= 100 {
		return 0, badLabel(name, off+1, record, "fine label", int(rec[1]), 100)
	}
	if f == CIFAR100Coarse {
		return int(rec[0]), nil
	}
	return int(rec[1]), nil
}

// cutRecord reports a file that ends at byte at, inside record at/rec.
func cutRecord(name string, at, rec int64, f CIFARFormat) error {
	whole := at / rec
	return fmt.Errorf("%w: record %d is %d of its %d bytes (not a whole number of %s records)",
		&TruncatedError{Name: name, At: at, Want: (whole + 1) * rec}, whole, at-whole*rec, rec, f)
}

// badLabel reports a label byte out of range.
func badLabel(name string, at, record int64, what string, got, n int) error {
	return fmt.Errorf("%s: at byte %d (record %d): %s %d is out of range 0..%d; not a CIFAR file, or a corrupt one", name, at, record, what, got, n-1)
}

// readNames reads a CIFAR label-name file (batches.meta.txt,
// fine_label_names.txt, coarse_label_names.txt): one name a line, blank
// lines skipped. It must hold exactly n names.
func readNames(path string, n int) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if len(names) != n {
		return nil, fmt.Errorf("%s: %d class names, want %d", path, len(names), n)
	}
	return names, nil
}
