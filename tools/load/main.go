// Command load puts a bounded load on a convscope server on this machine
// and reports what its visitors waited: many pages on a light model and a
// few on heavy ones, each running a picture over and over through the
// websocket protocol (docs/PROTOCOL.md), with /healthz polled beside them.
// It prints, per group, the runs, the errors and the time to prediction
// (p50, p99, max), /healthz's p99, and the server's peak memory when given
// its process id. It talks to loopback addresses only and stops after
// -duration (10 minutes at most).
//
//	go run ./tools/load -light 30 -heavy 1 -duration 60s -pid $(pgrep -f cmd/server)
//
// docs/RELIABILITY.md gives its figures.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// group is a set of pages running the same models.
type group struct {
	name   string
	models []string
	mu     sync.Mutex
	waits  []time.Duration
	errs   map[string]int
}

func (g *group) record(d time.Duration, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		if g.errs == nil {
			g.errs = map[string]int{}
		}
		g.errs[err.Error()]++
		return
	}
	g.waits = append(g.waits, d)
}

func run(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("load", flag.ContinueOnError)
	base := fl.String("url", "http://127.0.0.1:8080", "the server (a loopback address)")
	light := fl.Int("light", 30, "pages on the light model")
	lightModel := fl.String("light-model", "lenet5-fashion-mnist", "the light model")
	heavy := fl.Int("heavy", 1, "pages on the heavy models")
	heavyModels := fl.String("heavy-models", "vgg16", "comma-separated heavy models, each heavy page cycles through them")
	duration := fl.Duration("duration", 60*time.Second, "how long to run (at most 10m)")
	pid := fl.Int("pid", 0, "the server's process id, to report its peak memory (VmHWM)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil {
		return err
	}
	if ips, err := net.LookupIP(u.Hostname()); err != nil || len(ips) == 0 || !ips[0].IsLoopback() {
		return fmt.Errorf("%s is not a loopback address: this tool loads servers on this machine only", u.Host)
	}
	if *duration > 10*time.Minute || *light+*heavy > 2000 {
		return errors.New("at most 10 minutes and 2,000 pages")
	}
	id, err := uploadPicture(*base)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	groups := []*group{{name: "light " + *lightModel, models: []string{*lightModel}}, {name: "heavy " + *heavyModels, models: strings.Split(*heavyModels, ",")}}
	var wg sync.WaitGroup
	for i, n := range []int{*light, *heavy} {
		for k := 0; k < n; k++ {
			wg.Go(func() { page(ctx, *base, id, groups[i], k) })
		}
	}
	health := &group{name: "/healthz"}
	wg.Go(func() {
		for ctx.Err() == nil {
			begin := time.Now()
			res, err := http.Get(*base + "/healthz")
			if err == nil {
				res.Body.Close()
			}
			health.record(time.Since(begin), err)
			time.Sleep(200 * time.Millisecond)
		}
	})
	wg.Wait()
	for _, g := range append(groups, health) {
		report(out, g)
	}
	if *pid > 0 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", *pid))
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "VmHWM") {
				fmt.Fprintf(out, "server peak memory: %s\n", strings.Join(strings.Fields(line)[1:], " "))
			}
		}
	}
	return nil
}

// uploadPicture stores one 64x64 picture for every page to run.
func uploadPicture(base string) (string, error) {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(4 * x), uint8(4 * y), uint8(2 * (x + y)), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return "", err
	}
	res, err := http.Post(base+"/upload", "image/png", &b)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var up struct{ ID, Error string }
	if err := json.NewDecoder(res.Body).Decode(&up); err != nil || up.ID == "" {
		return "", fmt.Errorf("upload: %d %v %s", res.StatusCode, err, up.Error)
	}
	return up.ID, nil
}

// page is one visitor: it runs the picture on its group's models in turn
// until ctx ends, recording the time from each request to its prediction.
func page(ctx context.Context, base, id string, g *group, k int) {
	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, ws, nil)
	if err != nil {
		g.record(0, err)
		return
	}
	defer conn.Close()
	go func() { <-ctx.Done(); conn.Close() }()
	for i := k; ctx.Err() == nil; i++ {
		model := g.models[i%len(g.models)]
		begin := time.Now()
		if err := conn.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"run","model":%q,"upload":%q}`, model, id))); err != nil {
			return
		}
		for {
			kind, b, err := conn.ReadMessage()
			if err != nil {
				return // ctx ended, or the server closed
			}
			if kind != websocket.TextMessage {
				continue
			}
			var m struct{ Type, Message string }
			_ = json.Unmarshal(b, &m)
			if m.Type == "prediction" {
				g.record(time.Since(begin), nil)
				break
			}
			if m.Type == "error" {
				g.record(0, errors.New(m.Message))
				break
			}
		}
	}
}

func report(out io.Writer, g *group) {
	g.mu.Lock()
	defer g.mu.Unlock()
	slices.Sort(g.waits)
	q := func(p float64) time.Duration {
		if len(g.waits) == 0 {
			return 0
		}
		return g.waits[min(len(g.waits)-1, int(p*float64(len(g.waits))))]
	}
	errs := 0
	for _, n := range g.errs {
		errs += n
	}
	fmt.Fprintf(out, "%-28s %6d ok %4d errors  p50 %8.1f ms  p99 %8.1f ms  max %8.1f ms\n", g.name, len(g.waits), errs,
		ms(q(0.5)), ms(q(0.99)), ms(q(1)))
	for msg, n := range g.errs {
		fmt.Fprintf(out, "    %d x %s\n", n, msg)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
