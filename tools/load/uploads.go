package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// slowBody is the size a slow upload says its body has: under the
// server's 5 MB limit, so that only its read deadline can stop it.
const slowBody = 4 << 20

// trickleEvery is how often a slow upload sends its next byte.
const trickleEvery = time.Second

// pagePicture is the 64x64 picture every page runs.
func pagePicture() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(4 * y), uint8(2 * (x + y)), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// noisyPNG is a side x side PNG of random opaque pixels, which does not
// compress: about 3 MB for 1024, a large photo's weight.
func noisyPNG(side int) ([]byte, error) {
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(14, 14))
	for i := 0; i < len(img.Pix); i += 4 {
		v := r.Uint32()
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(v), uint8(v>>8), uint8(v>>16), 255
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// status names an HTTP status: "503 Service Unavailable".
func status(code int) string { return fmt.Sprintf("%d %s", code, http.StatusText(code)) }

// busy tells whether a status is the server asking to come back later.
func busy(code int) bool {
	return code == http.StatusServiceUnavailable || code == http.StatusRequestTimeout
}

// uploads runs n uploaders, each posting body over and over until ctx
// ends. g records the time of each 200, each busy answer (503, 408) by
// status with its time, and anything else as an error.
func uploads(ctx context.Context, base string, body []byte, n int, g *group) {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				begin := time.Now()
				code, err := post(ctx, client, base, bytes.NewReader(body), int64(len(body)))
				switch {
				case ctx.Err() != nil:
					return // cut off by the end of the load
				case err != nil:
					g.record(0, errors.New(describe(err)))
				case code == http.StatusOK:
					g.record(time.Since(begin), nil)
					continue
				case busy(code):
					g.end("busy: "+status(code), time.Since(begin))
				default:
					g.record(0, errors.New(status(code)))
				}
				sleep(ctx, 100*time.Millisecond) // no loop of instant failures
			}
		})
	}
	wg.Wait()
}

// slowUploads runs n uploaders, each sending a slowBody-byte body a byte
// per trickleEvery, over and over until ctx ends. g records how each
// upload ended (the server's status, or the connection closed) and after
// how long; those still sending when ctx ends count as such.
func slowUploads(ctx context.Context, base string, picture []byte, n int, g *group) {
	body := make([]byte, slowBody)
	copy(body, picture)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				begin := time.Now()
				code, err := post(ctx, client, base, &trickle{ctx: ctx, data: body}, int64(len(body)))
				switch {
				case ctx.Err() != nil:
					g.end("still sending when the load ended", time.Since(begin))
					return
				case err != nil:
					g.end("connection: "+describe(err), time.Since(begin))
				default:
					g.record(time.Since(begin), nil)
					g.end(status(code), time.Since(begin))
				}
				if err != nil || code != http.StatusRequestTimeout {
					sleep(ctx, 100*time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
}

// post sends body, of size bytes, to the upload endpoint and returns the
// answer's status, having read the answer.
func post(ctx context.Context, client *http.Client, base string, body io.Reader, size int64) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/upload", body)
	if err != nil {
		return 0, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "image/png")
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, nil
}

// trickle is a request body that gives its first byte at once and each
// next one after trickleEvery, until ctx ends.
type trickle struct {
	ctx  context.Context
	data []byte
	sent int
}

func (t *trickle) Read(p []byte) (int, error) {
	if t.sent == len(t.data) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if t.sent > 0 && !sleep(t.ctx, trickleEvery) {
		return 0, t.ctx.Err()
	}
	p[0] = t.data[t.sent]
	t.sent++
	return 1, nil
}

// sleep waits d, or less if ctx ends; it tells whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
