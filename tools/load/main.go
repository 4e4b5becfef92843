// Command load puts a bounded load on a convscope server on this machine
// and reports what its visitors waited: many pages on a light model and a
// few on heavy ones, each running a picture over and over through the
// websocket protocol (docs/PROTOCOL.md), with /healthz polled beside them.
// It prints, per group, the runs, the errors and the time to prediction
// (p50, p99, max), /healthz's p99, and the server's peak memory when given
// its process id. It talks to loopback addresses only and stops after
// -duration (10 minutes at most).
//
// Besides the pages, issue 14's other loads:
//
//   - -project: after each prediction a page asks for a projection
//     (deconvnet, channel 0 of a middle convolution, its strongest unit)
//     and waits for its picture; each group gets a second line,
//     "... projections", timing the request to the projection's PNG.
//   - -idle N: N websockets that hear the server's hello and say nothing,
//     held for the whole run ("idle websockets": the time to the hello,
//     refusals as errors, then how each ended: held to the end, or closed
//     by the server and with which close code, and after how long).
//   - -uploads N: N uploaders posting a 1024x1024 noisy PNG (about 3 MB)
//     over and over: the time of each 200, the busy answers (503, 408) by
//     status, anything else as an error.
//   - -slow-uploads N: N uploaders each sending a 4 MiB body a byte a
//     second, over and over: how each upload ended (the server should
//     answer 408 after its 15 s read deadline) and after how long.
//
// A page whose picture the server no longer keeps (its store holds the
// newest 256 uploads, and -uploads fills it) uploads it again, as the
// explorer page does; its group counts those apart from the errors.
//
// The tool raises its open-file limit to the hard limit and refuses a load
// that would need more connections than that.
//
//	go run ./tools/load -light 30 -heavy 1 -duration 60s -pid $(pgrep -f cmd/server)
//
// and issue 14's: 200 pages projecting, half on LeNet-5, half on the
// CIFAR-shaped ResNet-20 (untrained); 20 pages on VGG-16; 3,000 idle
// websockets, held past the server's 54 s ping (a server started with
// -max-sessions 4000 to hold them, else past 1,000 they are refused);
// 100 uploaders and 100 slow ones beside 30 pages:
//
//	go run ./tools/load -light 100 -heavy 100 -heavy-models resnet20 -project -duration 60s
//	go run ./tools/load -light 0 -heavy 20 -heavy-models vgg16 -duration 120s
//	go run ./tools/load -light 0 -heavy 0 -idle 3000 -duration 120s
//	go run ./tools/load -light 30 -heavy 0 -uploads 100 -slow-uploads 100 -duration 60s
//
// docs/RELIABILITY.md gives its figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Bounds on a load.
const (
	maxDuration = 10 * time.Minute
	maxPages    = 2000
	maxIdle     = 20000
	maxUploads  = 1000 // for each of -uploads and -slow-uploads
	// spareFiles are the open files the tool needs besides one per
	// connection: standard streams, /healthz, the first upload, DNS.
	spareFiles = 64
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// config is the command line, checked.
type config struct {
	base                    string
	light, heavy            int
	lightModel, heavyModels string
	duration                time.Duration
	pid                     int
	project                 bool
	idle                    int
	uploads, slowUploads    int
}

// parseFlags reads the command line and checks its bounds and that the
// server is on this machine.
func parseFlags(args []string) (config, error) {
	var c config
	fl := flag.NewFlagSet("load", flag.ContinueOnError)
	fl.StringVar(&c.base, "url", "http://127.0.0.1:8080", "the server (a loopback address)")
	fl.IntVar(&c.light, "light", 30, "pages on the light model")
	fl.StringVar(&c.lightModel, "light-model", "lenet5-fashion-mnist", "the light model")
	fl.IntVar(&c.heavy, "heavy", 1, "pages on the heavy models")
	fl.StringVar(&c.heavyModels, "heavy-models", "vgg16", "comma-separated heavy models, each heavy page cycles through them")
	fl.DurationVar(&c.duration, "duration", 60*time.Second, "how long to run (at most 10m)")
	fl.IntVar(&c.pid, "pid", 0, "the server's process id, to report its peak memory (VmHWM)")
	fl.BoolVar(&c.project, "project", false, "after each prediction, ask for a projection (deconvnet) and wait for it")
	fl.IntVar(&c.idle, "idle", 0, "idle websockets held open for the whole run")
	fl.IntVar(&c.uploads, "uploads", 0, "uploaders posting a 1024x1024 noisy PNG over and over")
	fl.IntVar(&c.slowUploads, "slow-uploads", 0, "uploaders trickling a 4 MiB body at a byte a second, over and over")
	if err := fl.Parse(args); err != nil {
		return c, err
	}
	if fl.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	switch {
	case c.duration <= 0 || c.duration > maxDuration:
		return c, fmt.Errorf("-duration %s: want more than 0 and at most %s", c.duration, maxDuration)
	case c.light < 0 || c.heavy < 0 || c.light+c.heavy > maxPages:
		return c, fmt.Errorf("-light %d -heavy %d: want 0 or more, %d pages at most", c.light, c.heavy, maxPages)
	case c.idle < 0 || c.idle > maxIdle:
		return c, fmt.Errorf("-idle %d: want 0 to %d", c.idle, maxIdle)
	case c.uploads < 0 || c.uploads > maxUploads || c.slowUploads < 0 || c.slowUploads > maxUploads:
		return c, fmt.Errorf("-uploads %d -slow-uploads %d: want 0 to %d each", c.uploads, c.slowUploads, maxUploads)
	}
	u, err := url.Parse(c.base)
	if err != nil {
		return c, err
	}
	if ips, err := net.LookupIP(u.Hostname()); err != nil || len(ips) == 0 || !ips[0].IsLoopback() {
		return c, fmt.Errorf("%s is not a loopback address: this tool loads servers on this machine only", u.Host)
	}
	c.base = strings.TrimSuffix(c.base, "/")
	return c, nil
}

// connections is how many connections the load holds at once, at most.
func (c config) connections() int {
	return c.light + c.heavy + c.idle + c.uploads + c.slowUploads
}

// checkFiles tells whether a load of conns connections fits in an
// open-file limit.
func checkFiles(conns int, limit uint64) error {
	if need := uint64(conns) + spareFiles; need > limit {
		return fmt.Errorf("this load holds %d connections and needs about %d open files, more than this process may open "+
			"(its hard RLIMIT_NOFILE is %d): ask for fewer, or raise the hard limit (ulimit -Hn, as root)", conns, need, limit)
	}
	return nil
}

// run parses the command line, puts the load on the server until the
// duration ends and writes the report to out.
func run(args []string, out io.Writer) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return fmt.Errorf("open-file limit: %w", err)
	}
	if err := checkFiles(c.connections(), limit); err != nil {
		return err
	}
	var picture []byte
	if c.light+c.heavy > 0 {
		if picture, err = pagePicture(); err != nil {
			return err
		}
	}
	var body []byte
	if c.uploads+c.slowUploads > 0 {
		if body, err = noisyPNG(1024); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.duration)
	defer cancel()
	pages := []*group{newGroup("light "+c.lightModel, c.project), newGroup("heavy "+c.heavyModels, c.project)}
	pages[0].models = []string{c.lightModel}
	pages[1].models = strings.Split(c.heavyModels, ",")
	var wg sync.WaitGroup
	for i, n := range []int{c.light, c.heavy} {
		for k := range n {
			wg.Go(func() { page(ctx, c.base, picture, pages[i], k) })
		}
	}
	var report []*group
	for i, g := range pages {
		if i == 0 && c.light == 0 || i == 1 && c.heavy == 0 {
			continue
		}
		report = append(report, g)
		if g.proj != nil {
			report = append(report, g.proj)
		}
	}
	if c.idle > 0 {
		g := &group{name: "idle websockets"}
		report = append(report, g)
		wg.Go(func() { idle(ctx, c.base, c.idle, g) })
	}
	if c.uploads > 0 {
		g := &group{name: fmt.Sprintf("uploads (%.1f MB)", float64(len(body))/1e6)}
		report = append(report, g)
		wg.Go(func() { uploads(ctx, c.base, body, c.uploads, g) })
	}
	if c.slowUploads > 0 {
		g := &group{name: "slow uploads (1 B/s)", noun: "answered"}
		report = append(report, g)
		wg.Go(func() { slowUploads(ctx, c.base, body, c.slowUploads, g) })
	}
	health := &group{name: "/healthz"}
	report = append(report, health)
	wg.Go(func() {
		for ctx.Err() == nil {
			begin := time.Now()
			res, err := http.Get(c.base + "/healthz")
			if err == nil {
				res.Body.Close()
			}
			health.record(time.Since(begin), err)
			time.Sleep(200 * time.Millisecond)
		}
	})
	wg.Wait()
	width := 0
	for _, g := range report {
		width = max(width, len(g.name))
	}
	for _, g := range report {
		g.report(out, width)
	}
	if c.pid > 0 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.pid))
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

// group is a set of pages running the same models, or of connections
// doing the same thing: the times of what went well, the errors by
// message, and other outcomes, each with its times.
type group struct {
	name   string
	models []string
	// noun names what waits counts in the report: "ok" unless set.
	noun string
	// proj, when pages ask for projections, times those.
	proj *group

	mu    sync.Mutex
	waits []time.Duration
	errs  map[string]int
	ends  map[string][]time.Duration
}

// newGroup makes a group of pages, with a projections group when they
// project.
func newGroup(name string, project bool) *group {
	g := &group{name: name}
	if project {
		g.proj = &group{name: name + " projections"}
	}
	return g
}

// record counts a success that took d, or an error.
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

// end counts an outcome that is neither a success nor an error (a busy
// answer, an idle connection's fate), with the time it took.
func (g *group) end(outcome string, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ends == nil {
		g.ends = map[string][]time.Duration{}
	}
	g.ends[outcome] = append(g.ends[outcome], d)
}

// report writes the group's line, its name padded to width, then a line
// per error message and per other outcome, the most frequent first.
func (g *group) report(out io.Writer, width int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	slices.Sort(g.waits)
	errs := 0
	for _, n := range g.errs {
		errs += n
	}
	noun := g.noun
	if noun == "" {
		noun = "ok"
	}
	fmt.Fprintf(out, "%-*s %6d %s %4d errors  p50 %8.1f ms  p99 %8.1f ms  max %8.1f ms\n", width, g.name, len(g.waits), noun, errs,
		ms(quantile(g.waits, 0.5)), ms(quantile(g.waits, 0.99)), ms(quantile(g.waits, 1)))
	for _, msg := range byCount(g.errs, func(n int) int { return n }) {
		fmt.Fprintf(out, "    %d x %s\n", g.errs[msg], msg)
	}
	for _, what := range byCount(g.ends, func(d []time.Duration) int { return len(d) }) {
		d := g.ends[what]
		slices.Sort(d)
		fmt.Fprintf(out, "    %d x %s  p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", len(d), what,
			ms(quantile(d, 0.5)), ms(quantile(d, 0.99)), ms(quantile(d, 1)))
	}
}

// byCount lists m's keys, the largest count first, then by name.
func byCount[V any](m map[string]V, count func(V) int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := count(m[b]) - count(m[a]); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return keys
}

// quantile is the p-quantile (0 to 1) of sorted times: the time below
// which a fraction p of them fall, the largest for 1, and 0 for none.
func quantile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// describe names a connection's failure in a few words, without the
// addresses and ports that would make every one different.
func describe(err error) string {
	var closed *websocket.CloseError
	var ne net.Error
	switch {
	case errors.As(err, &closed):
		s := fmt.Sprintf("close %d", closed.Code)
		if closed.Text != "" {
			s += ": " + closed.Text
		}
		return s
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.EMFILE):
		return "too many open files"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return err.Error()
}
