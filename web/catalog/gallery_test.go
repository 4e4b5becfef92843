package catalog

import "testing"

func TestGalleryFor(t *testing.T) {
	for _, tc := range []struct {
		e    Entry
		want string
	}{
		{Entry{Input: []int{1, 28, 28}, Dataset: "fashion-mnist"}, "fashion-mnist"},
		{Entry{Input: []int{1, 28, 28}, Dataset: "mnist"}, "mnist"},
		{Entry{Input: []int{3, 224, 224}, Dataset: "imagenet"}, "photos"},
		{Entry{Input: []int{3, 32, 32}, Dataset: ""}, "photos"},
		{Entry{Input: []int{3, 32, 32}, Dataset: "cifar10"}, "photos"},              // no cifar10 pictures ship
		{Entry{Input: []int{3, 28, 28}, Dataset: "fashion-mnist"}, "fashion-mnist"}, // its own gallery first
		{Entry{Input: []int{1, 28, 28}, Dataset: ""}, ""},
		{Entry{Input: []int{1, 28, 28}, Dataset: "kmnist"}, "kmnist"},
	} {
		if got := GalleryFor(tc.e); got != tc.want {
			t.Errorf("GalleryFor(%v on %q) = %q, want %q", tc.e.Input, tc.e.Dataset, got, tc.want)
		}
	}
	// The photos are shipped: their folder counts as a gallery.
	if !shippedGalleries()[PhotoGallery] {
		t.Errorf("static/samples/%s holds no PNG", PhotoGallery)
	}
}
