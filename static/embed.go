// Package static holds the browser side of convscope — plain ES modules
// (no build step, no CDN), the stylesheet, the icon and the sample gallery,
// and the engine compiled to WebAssembly for timing models in the reader's
// browser — embedded into the server binary.
package static

// wasm/speed.wasm is cmd/speedwasm built for the browser, and
// wasm/wasm_exec.js Go's loader for it, copied from the Go installation
// that built it; CI checks both are current.
//go:generate sh -c "GOOS=js GOARCH=wasm go build -trimpath -buildvcs=false -ldflags='-s -w' -o wasm/speed.wasm ../cmd/speedwasm && chmod 644 wasm/speed.wasm && cp \"$(go env GOROOT)/lib/wasm/wasm_exec.js\" wasm/wasm_exec.js"

import (
	"embed"
	"io/fs"
)

//go:embed css js favicon.svg samples wasm
var files embed.FS

// FS is the embedded assets: css/, js/, favicon.svg,
// samples/<dataset>/*.png and wasm/. The router serves it at /static/ and the gallery
// reads fs.Sub(FS, "samples").
var FS fs.FS = files
