package data

// Image folders, as torchvision's ImageFolder reads them:
//
//	root/cat/001.jpg
//	root/cat/nested/002.png
//	root/dog/x.webp
//
// one sub-folder per class, classes sorted by folder name (label 0 is the
// first), files found recursively and sorted by path. Files are decoded
// by content (JPEG, PNG, GIF, WebP) and brought to one C×H×W size when they
// are loaded, on several goroutines; the pictures then live in memory as
// bytes (an ImageSet). This is not a streaming reader for ImageNet-sized
// trees: a folder must fit in memory at the chosen size.

import (
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // GIF decoder for image.Decode
	_ "image/jpeg" // JPEG decoder
	_ "image/png"  // PNG decoder
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	_ "golang.org/x/image/webp" // WebP decoder (lossy and lossless)

	"github.com/convscope/convscope/nn"
)

// FolderExtensions are the file name endings ScanFolder takes for
// pictures, compared without case; other files are skipped, as
// torchvision's ImageFolder skips files outside its IMG_EXTENSIONS.
var FolderExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".webp"}

// MaxFolderPixels caps one file's picture (width × height, read from its
// header before it is decoded), so a hostile file cannot make a loader
// allocate gigabytes.
const MaxFolderPixels = 1 << 26

// Folder is the list of an image folder's pictures: what ScanFolder found,
// before anything is decoded.
type Folder struct {
	Root    string
	Classes []string // the class folders' names, sorted; label i is Classes[i]
	Files   []string // every picture's path, class by class, sorted
	Labels  []int    // Files[i]'s label
}

// FolderOptions says how a folder's files become pictures.
type FolderOptions struct {
	// Channels (1: grey by luma, 3: RGB), Height and Width of every
	// picture. Transparency is composited over black.
	Channels, Height, Width int
	// Letterbox fits the whole picture inside Height×Width (ToPixels,
	// margins in the border colour). Otherwise the picture is scaled so
	// that it covers Height×Width and the centre is kept, torchvision's
	// Resize(min side) + CenterCrop (ResizeCenterCrop when square).
	Letterbox bool
	// Workers is the number of decoding goroutines; 0 means
	// runtime.GOMAXPROCS(0).
	Workers int
}

// ScanFolder lists the pictures of an image folder: the sub-folders of
// root are the classes, sorted by name (hidden ones, starting with ".",
// are skipped), and every file under a class folder whose name ends in one
// of FolderExtensions is one of its pictures. A class folder with no
// picture is an error that names it, and so is a root with no class
// folder: neither would train as the user expects.
func ScanFolder(root string) (*Folder, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	f := &Folder{Root: root}
	var empty []string
	for _, e := range entries { // sorted by name
		p := filepath.Join(root, e.Name())
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
			continue
		}
		label := len(f.Classes)
		f.Classes = append(f.Classes, e.Name())
		n := len(f.Files)
		// WalkDir does not enter a linked directory: walk the class
		// folder's target, and name the files under the class folder.
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, err
		}
		err = filepath.WalkDir(real, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !isPicture(q) {
				return nil
			}
			if fi, err := os.Stat(q); err != nil || !fi.Mode().IsRegular() {
				return nil // a dangling link or a device: not a picture
			}
			rel, err := filepath.Rel(real, q)
			if err != nil {
				return err
			}
			f.Files = append(f.Files, filepath.Join(p, rel))
			f.Labels = append(f.Labels, label)
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(f.Files) == n {
			empty = append(empty, p)
		}
	}
	if len(f.Classes) == 0 {
		return nil, fmt.Errorf("%s: no class folders (an image folder is root/<class>/<picture>)", root)
	}
	if len(empty) > 0 {
		return nil, fmt.Errorf("class folder %s holds no picture (%s)", strings.Join(empty, ", "), strings.Join(FolderExtensions, " "))
	}
	return f, nil
}

func isPicture(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return slices.Contains(FolderExtensions, ext)
}

// Load decodes every file of f into an ImageSet of (N, Channels, Height,
// Width) bytes, labels and class names from f, on opt.Workers goroutines.
// A file that does not decode is an error that names it.
func (f *Folder) Load(opt FolderOptions) (*ImageSet, error) {
	c, h, w := opt.Channels, opt.Height, opt.Width
	if (c != 1 && c != 3) || h <= 0 || w <= 0 {
		return nil, fmt.Errorf("data: pictures of %dx%dx%d; want 1 or 3 channels and a positive size", c, h, w)
	}
	per := c * h * w
	s := &ImageSet{N: len(f.Files), C: c, H: h, W: w, Pix: make([]uint8, len(f.Files)*per),
		Labels: slices.Clone(f.Labels), Classes: slices.Clone(f.Classes)}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var (
		next     atomic.Int64 // the next file to decode
		failed   atomic.Bool
		mu       sync.Mutex
		firstErr error
		firstAt  = len(f.Files)
		wg       sync.WaitGroup
	)
	for range min(workers, max(len(f.Files), 1)) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(f.Files) {
					return
				}
				t, err := decodeFile(f.Files[i], opt)
				if err != nil {
					mu.Lock()
					if i < firstAt {
						firstAt, firstErr = i, err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
				copy(s.Pix[i*per:(i+1)*per], PixelBytes(t))
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return s, nil
}

// decodeFile reads one picture and brings it to opt's size, as a
// (1,C,H,W) tensor of [0,1] values.
func decodeFile(path string, opt FolderOptions) (*nn.Tensor, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	cfg, _, err := image.DecodeConfig(file)
	if err == nil && cfg.Width*cfg.Height > MaxFolderPixels {
		return nil, fmt.Errorf("%s: %dx%d pixels, over the %d-pixel limit", path, cfg.Width, cfg.Height, MaxFolderPixels)
	}
	if err == nil {
		_, err = file.Seek(0, 0)
	}
	var img image.Image
	if err == nil {
		img, _, err = image.Decode(file)
	}
	if errors.Is(err, image.ErrFormat) {
		return nil, fmt.Errorf("%s: not a JPEG, PNG, GIF or WebP picture", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fmt.Errorf("%s: a picture of %dx%d pixels", path, b.Dx(), b.Dy())
	}
	c, h, w := opt.Channels, opt.Height, opt.Width
	switch {
	case opt.Letterbox:
		return ToPixels(img, c, h, w), nil
	case h == w:
		return ResizeCenterCrop(img, c, h, h), nil
	}
	return coverCrop(img, c, h, w), nil
}

// coverCrop is ResizeCenterCrop for an h×w output that need not be square:
// img is scaled by area averaging so that it covers h×w (the smaller scale
// that does), then the centre h×w is kept, at torchvision's CenterCrop
// offsets. It returns a (1,c,h,w) tensor of [0,1] values.
func coverCrop(img image.Image, c, h, w int) *nn.Tensor {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	scale := math.Max(float64(w)/float64(sw), float64(h)/float64(sh))
	dw := max(w, int(math.Round(float64(sw)*scale)))
	dh := max(h, int(math.Round(float64(sh)*scale)))
	planes := areaAverage(img, c, dw, dh)
	ox, oy := int(math.RoundToEven(float64(dw-w)/2)), int(math.RoundToEven(float64(dh-h)/2))
	t := nn.New(1, c, h, w)
	for ch := range c {
		for y := range h {
			copy(t.Data[(ch*h+y)*w:(ch*h+y+1)*w], planes[ch][(oy+y)*dw+ox:])
		}
	}
	return t
}

// LoadFolder is ScanFolder(root) then Load(opt): every picture of an image
// folder, as an ImageSet of opt's size.
func LoadFolder(root string, opt FolderOptions) (*ImageSet, error) {
	f, err := ScanFolder(root)
	if err != nil {
		return nil, err
	}
	return f.Load(opt)
}

// SplitFolder loads an image folder and splits it into a training and a
// validation set, stratified per class and reproducible from seed
// (ImageSet.Split): for an image folder with no separate validation
// folder.
func SplitFolder(root string, opt FolderOptions, valFraction float64, seed uint64) (train, val *ImageSet, err error) {
	if !(valFraction >= 0 && valFraction <= 1) {
		return nil, nil, fmt.Errorf("data: validation fraction %v is not in [0,1]", valFraction)
	}
	s, err := LoadFolder(root, opt)
	if err != nil {
		return nil, nil, err
	}
	return s.Split(valFraction, seed)
}
