package catalog

import (
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/convscope/convscope/static"
)

// PhotoGallery is the folder of static/samples/ holding colour photographs
// (tools/samples/photos.py): the gallery of three-channel models whose
// dataset ships no pictures of its own.
const PhotoGallery = "photos"

// GalleryFor returns the folder of static/samples/ whose pictures the
// explorer offers for e and from which a run's sample is opened: e's
// dataset's own when that folder holds PNG samples (fashion-mnist, mnist);
// PhotoGallery for a three-channel model without one (the ImageNet-size
// networks, the CIFAR-shaped ones with no dataset); otherwise e.Dataset,
// whose gallery is empty.
func GalleryFor(e Entry) string {
	if shippedGalleries()[e.Dataset] {
		return e.Dataset
	}
	if len(e.Input) > 0 && e.Input[0] == 3 {
		return PhotoGallery
	}
	return e.Dataset
}

// shippedGalleries is the set of static/samples/ folders holding at least
// one PNG, read once from the embedded assets.
var shippedGalleries = sync.OnceValue(func() map[string]bool {
	have := map[string]bool{}
	dirs, _ := fs.ReadDir(static.FS, "samples")
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		files, _ := fs.ReadDir(static.FS, "samples/"+d.Name())
		for _, f := range files {
			if !f.IsDir() && strings.EqualFold(path.Ext(f.Name()), ".png") {
				have[d.Name()] = true
				break
			}
		}
	}
	return have
})
