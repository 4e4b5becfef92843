package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/viz"
)

// samples writes the first n test images whose class has not yet had its
// share (n/classes each, round robin), as DIR/NN-classname.png.
func samples(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("samples", flag.ContinueOnError)
	dataset := fs.String("data", "fashion-mnist", "dataset")
	dataDir := fs.String("data-dir", "", "directory holding the dataset files (default: searched)")
	n := fs.Int("n", 20, "number of images")
	out := fs.String("out", "", "output directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out DIR is required")
	}
	set, err := data.Open(*dataset, *dataDir, false)
	if err != nil {
		return err
	}
	names := data.ClassNames(*dataset)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	per := make([]int, len(names))
	quota := (*n + len(names) - 1) / len(names)
	written := 0
	for i := 0; i < set.Len() && written < *n; i++ {
		c := int(set.Labels[i])
		if per[c] >= quota {
			continue
		}
		per[c]++
		h, w := set.Images.H, set.Images.W
		img := &image.Gray{Pix: set.Images.Pix[i*h*w : (i+1)*h*w], Stride: w, Rect: image.Rect(0, 0, w, h)}
		b, err := viz.PNG(img)
		if err != nil {
			return err
		}
		file := fmt.Sprintf("%02d-%s.png", written, slug(names[c]))
		if err := os.WriteFile(filepath.Join(*out, file), b, 0o644); err != nil {
			return err
		}
		written++
	}
	fmt.Fprintf(stdout, "wrote %d images to %s\n", written, *out)
	return nil
}

// slug lowercases a class name for a file name: "T-shirt/top" -> "t-shirt-top".
func slug(s string) string {
	return strings.NewReplacer("/", "-", " ", "-").Replace(strings.ToLower(s))
}
