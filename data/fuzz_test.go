package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	check "github.com/convscope/convscope/internal/bounded"
)

// bounded runs read on b and fails t if it takes longer than 10 s or
// allocates more than 32 MiB plus 64 bytes per input byte; a gzip stream
// may inflate up to limit (the reader's documented cap) besides.
func bounded(t *testing.T, b []byte, limit uint64, read func()) {
	t.Helper()
	lim := uint64(32<<20 + 64*len(b))
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		lim += 2 * limit
	}
	check.Run(t, fmt.Sprintf("reading %d bytes", len(b)), lim, read)
}

// oneLine fails t if err spans several lines or does not name the reader.
func oneLine(t *testing.T, err error, name string) {
	t.Helper()
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, name) {
		t.Fatalf("error %q: want one line naming %q", msg, name)
	}
}

// FuzzIDX reads arbitrary bytes as an IDX image file and as an IDX label
// file: each read returns an error or data, never panics, hangs or
// allocates past its bound; what a raw file yields is exactly the bytes
// after its header, as many as the header says.
func FuzzIDX(f *testing.F) {
	header := func(magic uint32, dims ...uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, magic)
		for _, d := range dims {
			b = binary.BigEndian.AppendUint32(b, d)
		}
		return b
	}
	images, labels := idxImagesBytes(3, 4, 5), idxLabelsBytes(7)
	gzImages, gzLabels := gzipped(f, images), gzipped(f, labels)
	for _, b := range [][]byte{
		images, labels, gzImages, gzLabels,
		nil, {0x1f, 0x8b}, images[:10], images[:len(images)-1], gzipped(f, images)[:30],
		append(images, 1, 2, 3),
		// TestHostileHeader's headers.
		header(idxImagesMagic, 1<<32-1, 1<<32-1, 1<<32-1),
		header(idxImagesMagic, 1, 1<<16, 1<<16),
		header(idxLabelsMagic, 1<<32-1),
		header(idxImagesMagic, 5, 28, 0),
		append(header(idxImagesMagic, 1<<18, 28, 28), make([]byte, 100)...),
		header(0x00000d03, 1, 2, 2), // float IDX
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw := !(len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		var m *Images
		var err error
		bounded(t, b, MaxIDXBytes, func() { m, err = ReadIDXImages(bytes.NewReader(b)) })
		if err != nil && (bytes.Equal(b, images) || bytes.Equal(b, gzImages)) {
			t.Fatalf("the valid image file: %v", err)
		}
		if err != nil {
			oneLine(t, err, "idx")
		} else {
			if m.N < 0 || m.H < 0 || m.W < 0 || len(m.Pix) != m.N*m.H*m.W {
				t.Fatalf("%d images of %dx%d in %d bytes", m.N, m.H, m.W, len(m.Pix))
			}
			if raw && (len(b) < 16+len(m.Pix) || !bytes.Equal(m.Pix, b[16:16+len(m.Pix)])) {
				t.Fatalf("pixels are not the bytes after the header")
			}
			if bytes.Equal(b, images) && (m.N != 3 || m.H != 4 || m.W != 5 || m.Image(2)[19] != 59) {
				t.Fatalf("the valid file reads as %d images of %dx%d", m.N, m.H, m.W)
			}
		}
		var l []uint8
		bounded(t, b, MaxIDXBytes, func() { l, err = ReadIDXLabels(bytes.NewReader(b)) })
		if err != nil && (bytes.Equal(b, labels) || bytes.Equal(b, gzLabels)) {
			t.Fatalf("the valid label file: %v", err)
		}
		if err != nil {
			oneLine(t, err, "idx")
			return
		}
		if raw && (len(b) < 8+len(l) || int(binary.BigEndian.Uint32(b[4:])) != len(l) || !bytes.Equal(l, b[8:8+len(l)])) {
			t.Fatalf("%d labels are not the bytes after the header", len(l))
		}
		if bytes.Equal(b, labels) && (len(l) != 7 || l[6] != 6) {
			t.Fatalf("the valid file reads as %v", l)
		}
	})
}

// FuzzCIFAR reads arbitrary bytes as a CIFAR binary file of each format:
// an error or pictures, never a panic, a hang or an allocation past its
// bound; what it accepts is whole records with labels in range, and a raw
// file's records are its bytes.
func FuzzCIFAR(f *testing.F) {
	ten, hundred := cifarBytes(CIFAR10, 0, 3), cifarBytes(CIFAR100, 0, 2)
	valid := map[CIFARFormat][]byte{CIFAR10: ten, CIFAR100: hundred, CIFAR100Coarse: hundred}
	badLabel := append([]byte{}, ten...)
	badLabel[3073] = 10
	for _, b := range [][]byte{
		ten, hundred, gzipped(f, ten), gzipped(f, hundred),
		nil, {0x1f, 0x8b}, ten[:100], ten[:len(ten)-1], append(ten[:3073:3073], 9), badLabel,
		gzipped(f, ten)[:40],
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw := !(len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		for _, format := range []CIFARFormat{CIFAR10, CIFAR100, CIFAR100Coarse} {
			var s *ImageSet
			var err error
			bounded(t, b, MaxCIFARBytes, func() { s, err = ReadCIFAR(bytes.NewReader(b), format) })
			if err != nil && bytes.Equal(b, valid[format]) {
				t.Fatalf("the valid %s file: %v", format, err)
			}
			if err != nil {
				oneLine(t, err, "cifar")
				continue
			}
			rec := format.RecordSize()
			if s.N < 1 || len(s.Labels) != s.N || len(s.Pix) != s.N*cifarPix || s.C != 3 || s.H != 32 || s.W != 32 {
				t.Fatalf("%s: %d pictures, %d labels, %d pixels", format, s.N, len(s.Labels), len(s.Pix))
			}
			for i, l := range s.Labels {
				if l < 0 || l >= format.classes() {
					t.Fatalf("%s: label %d of picture %d", format, l, i)
				}
				if raw && (len(b) != s.N*rec || !bytes.Equal(s.Pix[i*cifarPix:(i+1)*cifarPix], b[i*rec+rec-cifarPix:(i+1)*rec])) {
					t.Fatalf("%s: picture %d is not its record's bytes", format, i)
				}
			}
			if bytes.Equal(b, ten) && format == CIFAR10 && (s.N != 3 || s.Labels[2] != 2 || s.Pix[cifarPix+5] != cifarPixel(1, 5)) {
				t.Fatalf("the valid CIFAR-10 file reads as %d pictures, labels %v", s.N, s.Labels)
			}
		}
	})
}
