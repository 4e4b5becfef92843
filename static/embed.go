// Package static holds the browser side of convscope — plain ES modules
// (no build step, no CDN), the stylesheet, the icon and the sample gallery —
// embedded into the server binary.
package static

import (
	"embed"
	"io/fs"
)

//go:embed css js favicon.svg samples
var files embed.FS

// FS is the embedded assets: css/, js/, favicon.svg and
// samples/<dataset>/*.png. The router serves it at /static/ and the gallery
// reads fs.Sub(FS, "samples").
var FS fs.FS = files
