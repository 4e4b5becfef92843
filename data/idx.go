package data

// The IDX reader (MNIST, Fashion-MNIST): unsigned-byte images (magic
// 0x00000803, dims N, H, W) and labels (magic 0x00000801, dim N), raw or
// gzip, told apart by the gzip magic bytes and never by the file name. It
// reads only the ubyte type; float, int and short IDX files are refused.
// A header is trusted for nothing: sizes are capped before anything is
// allocated, and the pixel buffer grows with the data actually read, so a
// hostile header cannot make it allocate what the file does not hold.

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

const (
	idxImagesMagic = 0x00000803 // ubyte, 3 dims
	idxLabelsMagic = 0x00000801 // ubyte, 1 dim
)

// MaxIDXBytes caps the data an IDX header may announce (N·H·W bytes for
// images, N for labels). Fashion-MNIST's training images are 47,040,000.
const MaxIDXBytes = 1 << 28

// Images is a stack of N grey H×W pictures, one byte per pixel (0 black,
// 255 white), row-major: picture i is Pix[i*H*W : (i+1)*H*W].
type Images struct {
	N, H, W int
	Pix     []uint8
}

// Image returns picture i's H*W bytes, sharing Pix.
func (m *Images) Image(i int) []uint8 {
	n := m.H * m.W
	return m.Pix[i*n : (i+1)*n : (i+1)*n]
}

// TruncatedError reports an IDX stream that ended early. Offsets count
// bytes of the decompressed stream, header included, so Want is the size
// the header promised (16 + N·H·W for images).
type TruncatedError struct {
	Name     string // the file, or "idx" for a bare reader
	At, Want int64
}

// Error reads "name: truncated at byte At of Want expected".
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("%s: truncated at byte %d of %d expected", e.Name, e.At, e.Want)
}

// ReadIDXImages reads an IDX ubyte image file (magic 0x00000803), raw or
// gzip, and returns its (N,H,W) pixels.
func ReadIDXImages(r io.Reader) (*Images, error) { return readImages(r, "idx") }

// ReadIDXLabels reads an IDX ubyte label file (magic 0x00000801), raw or
// gzip, and returns its N labels.
func ReadIDXLabels(r io.Reader) ([]uint8, error) { return readLabels(r, "idx") }

func readImages(r io.Reader, name string) (*Images, error) {
	dims, src, err := readHeader(r, name, idxImagesMagic, 3)
	if err != nil {
		return nil, err
	}
	n, h, w := dims[0], dims[1], dims[2]
	if n > 0 && (h == 0 || w == 0) {
		return nil, fmt.Errorf("%s: %d images of %dx%d pixels", name, n, h, w)
	}
	// Each factor is below 2^32: check h*w before n*(h*w) can overflow.
	if h*w > MaxIDXBytes || n*(h*w) > MaxIDXBytes {
		return nil, fmt.Errorf("%s: header announces %d images of %dx%d pixels, over the %d-byte limit", name, n, h, w, MaxIDXBytes)
	}
	pix, err := readBody(src, name, 16, int(n*h*w))
	if err != nil {
		return nil, err
	}
	return &Images{N: int(n), H: int(h), W: int(w), Pix: pix}, nil
}

func readLabels(r io.Reader, name string) ([]uint8, error) {
	dims, src, err := readHeader(r, name, idxLabelsMagic, 1)
	if err != nil {
		return nil, err
	}
	if dims[0] > MaxIDXBytes {
		return nil, fmt.Errorf("%s: header announces %d labels, over the %d-byte limit", name, dims[0], MaxIDXBytes)
	}
	return readBody(src, name, 8, int(dims[0]))
}

// readHeader unwraps gzip when the stream starts with 0x1f 0x8b, checks the
// magic number and returns the ndim sizes and the (decompressed) stream
// positioned at the data.
func readHeader(r io.Reader, name string, magic uint32, ndim int) ([]uint64, io.Reader, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, nil, fmt.Errorf("%s: truncated gzip header", name)
			}
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		src = gz
	}
	hdrLen := 4 + 4*ndim
	hdr := make([]byte, hdrLen)
	if n, err := io.ReadFull(src, hdr[:4]); err != nil {
		return nil, nil, readErr(err, name, int64(n), int64(hdrLen))
	}
	if got := binary.BigEndian.Uint32(hdr); got != magic {
		return nil, nil, fmt.Errorf("%s: bad magic number 0x%08x, want 0x%08x (IDX ubyte, %d dims)", name, got, magic, ndim)
	}
	if n, err := io.ReadFull(src, hdr[4:]); err != nil {
		return nil, nil, readErr(err, name, int64(4+n), int64(hdrLen))
	}
	dims := make([]uint64, ndim)
	for i := range dims {
		dims[i] = uint64(binary.BigEndian.Uint32(hdr[4+4*i:]))
	}
	return dims, src, nil
}

// readBody reads the size data bytes that follow a header of hdrLen bytes.
// The buffer starts at 1 MiB at most and doubles as data arrives. A gzip
// stream is then read to its end so that its CRC is checked.
func readBody(src io.Reader, name string, hdrLen, size int) ([]byte, error) {
	buf := make([]byte, 0, min(size, 1<<20))
	for len(buf) < size {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(size, 2*cap(buf))-len(buf))
		}
		n, err := io.ReadFull(src, buf[len(buf):min(cap(buf), size)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return nil, readErr(err, name, int64(hdrLen+len(buf)), int64(hdrLen+size))
		}
	}
	if gz, ok := src.(*gzip.Reader); ok {
		// Up to 1 MiB of trailing bytes is read past (and then the CRC is
		// checked); a bad or cut gzip trailer is an error.
		if _, err := io.Copy(io.Discard, io.LimitReader(gz, 1<<20)); err != nil {
			return nil, fmt.Errorf("%s: after the data: %w", name, err)
		}
	}
	return buf, nil
}

// readErr turns a short read at byte at (of want) into a TruncatedError and
// any other failure into an error naming the file and the offset.
func readErr(err error, name string, at, want int64) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &TruncatedError{Name: name, At: at, Want: want}
	}
	return fmt.Errorf("%s: at byte %d: %w", name, at, err)
}
