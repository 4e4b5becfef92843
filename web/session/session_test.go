package session_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/ownmodel"
	"github.com/convscope/convscope/web/samples"
	"github.com/convscope/convscope/web/session"
	"github.com/convscope/convscope/web/upload"
	"github.com/convscope/convscope/zoo"
)

// fixture is a session server over an untrained LeNet-5, one sample and one
// stored upload.
type fixture struct {
	srv      *httptest.Server
	models   *catalog.Catalog
	uploadID string
	store    *upload.Store
	stop     chan struct{}
	h        *session.Handler
}

func sampleImage() *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 6; y < 22; y++ {
		for x := 9; x < 19; x++ {
			g.SetGray(x, y, color.Gray{200})
		}
	}
	return g
}

func newFixture(t *testing.T) *fixture { t.Helper(); return newLimitedFixture(t, 0) }

// newLimitedFixture is newFixture with at most maxSessions sessions open
// at once (0: no cap).
func newLimitedFixture(t *testing.T, maxSessions int) *fixture {
	t.Helper()
	return serveModel(t, "lenet5", nil, func(h *session.Handler) { h.MaxSessions = maxSessions })
}

// serveModel serves an untrained zoo model with the one-picture gallery and
// one stored upload. models, if not nil, wraps the catalog the handler
// sees; tune, if not nil, sets the handler's limits before it serves.
func serveModel(t *testing.T, model string, models func(*catalog.Catalog) session.Models, tune func(*session.Handler)) *fixture {
	t.Helper()
	cat, err := catalog.Untrained(model, 1)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, sampleImage()); err != nil {
		t.Fatal(err)
	}
	gallery := samples.New(fstest.MapFS{"fashion-mnist/00-coat.png": {Data: b.Bytes()}})
	store := upload.NewStore(8, time.Hour)
	f := &fixture{models: cat, uploadID: "0123456789abcdef0123456789abcdef", store: store, stop: make(chan struct{})}
	store.Keep(f.uploadID, sampleImage())
	var seen session.Models = cat
	if models != nil {
		seen = models(cat)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.h = session.New(seen, store, gallery, quiet, f.stop)
	// As the router has it: pictures on the socket; models too, once
	// OwnModels allows them.
	f.h.Pictures = upload.New(store, quiet)
	f.h.ModelFiles = ownmodel.New(cat, quiet)
	if tune != nil {
		tune(f.h)
	}
	f.srv = httptest.NewServer(f.h.Routes())
	t.Cleanup(f.srv.Close)
	return f
}

// client is a test's end of the websocket.
type client struct {
	t     *testing.T
	conn  *websocket.Conn
	hello session.Hello // the connection's first message
}

func (f *fixture) dial(t *testing.T) *client {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(f.srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn}
	var hello session.Hello
	c.json("hello", &hello)
	if hello.Version != session.Version || len(hello.Models) != 1 || hello.Models[0].Name != f.models.Entries()[0].Name ||
		!strings.HasPrefix(hello.Models[0].Source, "random initialisation, seed ") {
		t.Fatalf("hello = %+v", hello)
	}
	c.hello = hello
	return c
}

func (c *client) send(msg string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) next() (int, []byte) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	kind, b, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return kind, b
}

// json reads the next message, which must be JSON text of type typ, into v.
func (c *client) json(typ string, v any) {
	c.t.Helper()
	kind, b := c.next()
	if kind != websocket.TextMessage {
		c.t.Fatalf("got a binary message, want %q", typ)
	}
	var head struct{ Type string }
	if err := json.Unmarshal(b, &head); err != nil {
		c.t.Fatalf("bad JSON %q: %v", b, err)
	}
	if head.Type != typ {
		c.t.Fatalf("got %s, want type %q", b, typ)
	}
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatal(err)
	}
}

// frame reads the next message, which must be binary, and parses its header.
func (c *client) frame(kind uint8) (session.Header, []byte) {
	c.t.Helper()
	k, b := c.next()
	if k != websocket.BinaryMessage {
		c.t.Fatalf("got text %s, want a binary frame", b)
	}
	h, payload, ok := session.ParseHeader(b)
	if !ok || h.Kind != kind {
		c.t.Fatalf("frame header %+v, want kind %d", h, kind)
	}
	return h, payload
}

// errorFor sends msg and expects an error answer that mentions want.
func (c *client) errorFor(msg, want string) {
	c.t.Helper()
	c.send(msg)
	var e session.Error
	c.json("error", &e)
	if !strings.Contains(e.Message, want) {
		c.t.Fatalf("message %.80q: error %q, want it to mention %q", msg, e.Message, want)
	}
}

// run sends a run request and checks the whole stream: start, input, one
// layer message and maps frame per top-level layer in order (names and
// shapes as zoo.Summarize has them), then the prediction.
func (c *client) run(f *fixture, req string) session.Prediction {
	c.t.Helper()
	m, err := f.models.Open("")
	if err != nil {
		c.t.Fatal(err)
	}
	sum, err := zoo.Summarize(m.Net)
	if err != nil {
		c.t.Fatal(err)
	}
	var want []string
	for _, l := range sum.Top() {
		want = append(want, l.Name)
	}
	return c.runExpecting(sum, req, want)
}

// runExpecting is run for a stream of exactly the rows named want.
func (c *client) runExpecting(sum *zoo.Summary, req string, want []string) session.Prediction {
	c.t.Helper()
	c.send(req)
	var start session.Start
	c.json("start", &start)
	if start.Run < 1 || len(start.Layers) != len(sum.Layers) || !slices.Equal(start.Input, sum.Input) {
		c.t.Fatalf("start = %+v", start)
	}
	var in session.Input
	c.json("input", &in)
	h, pix := c.frame(session.KindInput)
	if n := zooNumel(sum.Input); h.Run != start.Run || h.Index != -1 || h.C*h.H*h.W != n || len(pix) != n {
		c.t.Fatalf("input frame %+v with %d bytes", h, len(pix))
	}
	c.layers(start.Run, sum, want)
	var p session.Prediction
	c.json("prediction", &p)
	var total float32
	for _, v := range p.Probs {
		total += v
	}
	if p.Run != start.Run || len(p.Probs) != 10 || len(p.Classes) != 10 || total < 0.999 || total > 1.001 || p.Top < 0 || p.Top >= 10 {
		c.t.Fatalf("prediction = %+v (sum %v)", p, total)
	}
	return p
}

// layers reads one layer message and maps frame for each row named in want.
func (c *client) layers(run int, sum *zoo.Summary, want []string) {
	c.t.Helper()
	for _, name := range want {
		row, i, ok := sum.Row(name)
		if !ok {
			c.t.Fatalf("no row %s", name)
		}
		var l session.Layer
		c.json("layer", &l)
		if l.Index != i || l.Name != row.Name || l.Kind != row.Type || !slices.Equal(l.Shape, row.Maps) || l.Run != run {
			c.t.Fatalf("layer message = %+v, want row %d: %s %s %v", l, i, row.Name, row.Type, row.Maps)
		}
		h, maps := c.frame(session.KindMaps)
		if h.Index != i || h.Run != run || len(maps) != h.C*h.H*h.W || h.C*h.H*h.W != zooNumel(row.Output) || h.Min != l.Min || h.Max != l.Max {
			c.t.Fatalf("maps frame of %s: %+v with %d bytes, output %v", name, h, len(maps), row.Output)
		}
	}
}

func zooNumel(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// project sends a projection request and returns the answer and its PNG
// (the whole map: a long method's partial maps are passed over).
func (c *client) project(req string) (session.Projection, image.Image) {
	c.t.Helper()
	c.send(req)
	for {
		p, img := c.projection()
		if !p.Partial {
			return p, img
		}
	}
}

// projection reads one projection message and its PNG, skipping progress
// and queued messages.
func (c *client) projection() (session.Projection, image.Image) {
	c.t.Helper()
	var p session.Projection
	for {
		kind, b := c.next()
		var head struct{ Type string }
		if kind != websocket.TextMessage || json.Unmarshal(b, &head) != nil {
			c.t.Fatalf("want a projection, got a %d message %q", kind, b)
		}
		if head.Type == "progress" || head.Type == "queued" {
			continue
		}
		if head.Type != "projection" {
			c.t.Fatalf("want a projection, got %s", b)
		}
		if err := json.Unmarshal(b, &p); err != nil {
			c.t.Fatal(err)
		}
		break
	}
	h, b := c.frame(session.KindProjection)
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		c.t.Fatalf("projection PNG: %v", err)
	}
	if h.Index != p.Index || h.Run != p.Run || h.W != img.Bounds().Dx() || h.H != img.Bounds().Dy() {
		c.t.Fatalf("projection frame %+v, picture %v", h, img.Bounds())
	}
	if p.Heat && (h.Min != p.Lo || h.Max != p.Hi) || !p.Heat && (h.Min != -p.Peak || h.Max != p.Peak) {
		c.t.Fatalf("projection frame scale [%v,%v], projection %+v", h.Min, h.Max, p)
	}
	if p.Partial {
		return p, img
	}
	// A whole map's numbers follow: the map's shape, its float32 values,
	// whose extremes are the picture's scale.
	nh, nb := c.frame(session.KindNumbers)
	if nh.Run != p.Run || nh.Index != p.Index || len(nb) != 4*nh.C*nh.H*nh.W || p.Heat && (nh.H != p.Shape[0] || nh.W != p.Shape[1]) {
		c.t.Fatalf("numbers frame %+v of %d bytes for %+v", nh, len(nb), p)
	}
	var lo, hi, peak float32
	for i := 0; i < len(nb); i += 4 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(nb[i:]))
		lo, hi, peak = min(lo, v), max(hi, v), max(peak, float32(math.Abs(float64(v))))
		if i == 0 {
			lo, hi = v, v
		}
	}
	if p.Heat && (lo != p.Lo || hi != p.Hi) || !p.Heat && peak != p.Peak {
		c.t.Fatalf("numbers from %g to %g (peak %g), projection %+v", lo, hi, peak, p)
	}
	return p, img
}

func TestRunStreamsEveryLayerThenPrediction(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	c.run(f, `{"type":"run","sample":"00-coat.png"}`)
	// The same picture stored as an upload gives the same prediction.
	a := c.run(f, `{"type":"run","sample":"00-coat.png"}`)
	b := c.run(f, `{"type":"run","upload":"`+f.uploadID+`"}`)
	if !slices.Equal(a.Probs, b.Probs) {
		t.Fatalf("sample and upload of one picture differ: %v vs %v", a.Probs, b.Probs)
	}
}

func TestProjection(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	c.run(f, `{"type":"run","model":"lenet5-untrained","sample":"00-coat.png"}`)
	m, _ := f.models.Open("")

	// A whole map: the strongest unit, its field from LayerInfo.Box.
	p, first := c.project(`{"type":"project","run":1,"layer":"c3","channel":5}`)
	if !p.Strongest || p.Layer != "c3" || p.Index != 3 || p.Unit.Channel != 5 || p.RF != 14 || p.Whole {
		t.Fatalf("projection = %+v", p)
	}
	box := m.Summary.Layers[3].Box(p.Unit.Y, p.Unit.X, 28, 28)
	if p.Box != [4]int{box.Min.X, box.Min.Y, box.Max.X, box.Max.Y} {
		t.Fatalf("box %v, want %v", p.Box, box)
	}
	// A chosen unit.
	p, img := c.project(`{"type":"project","layer":"c1","channel":2,"y":27,"x":0}`)
	if p.Strongest || p.Unit != (session.Unit{Channel: 2, Y: 27, X: 0}) || p.Box[0] != 0 || p.Box[3] != 28 {
		t.Fatalf("projection = %+v", p)
	}
	// c1's unit (27,0) sees only a 5x5 corner (3x3 inside the picture):
	// outside it the projection is exactly zero, mid grey.
	for y := range 28 {
		for x := range 28 {
			r, _, _, _ := img.At(x, y).RGBA()
			if (x > 2 || y < 25) && r>>8 != 128 {
				t.Fatalf("projection pixel (%d,%d) = %d outside the receptive field", x, y, r>>8)
			}
		}
	}
	// A vector unit of the classifier, chosen (not the strongest).
	p, _ = c.project(`{"type":"project","layer":"out","channel":7,"y":0,"x":0}`)
	if p.Layer != "out" || p.Unit.Channel != 7 || p.Strongest || !p.Whole || p.Box != [4]int{0, 0, 28, 28} {
		t.Fatalf("projection of a logit = %+v", p)
	}
	// The other methods walk the same seed back under their rule: for
	// LeNet-5's tanh layers guided backpropagation keeps only positive
	// signals, so it differs from the gradient; the deconvnet passes tanh's
	// signal unchanged, so it differs from both.
	pg, grad := c.project(`{"type":"project","layer":"c3","channel":5,"y":2,"x":3,"method":"gradient"}`)
	pu, guided := c.project(`{"type":"project","layer":"c3","channel":5,"y":2,"x":3,"method":"guided"}`)
	pd, dec := c.project(`{"type":"project","layer":"c3","channel":5,"y":2,"x":3}`)
	if pg.Method != "gradient" || pu.Method != "guided" || pd.Method != "deconvnet" || samePixels(grad, guided) || samePixels(grad, dec) {
		t.Fatalf("methods %s %s %s; pictures alike: gradient=guided %v, gradient=deconvnet %v", pg.Method, pu.Method, pd.Method, samePixels(grad, guided), samePixels(grad, dec))
	}
	// Projections reuse their buffers: asked again, the first is unchanged.
	if _, again := c.project(`{"type":"project","run":1,"layer":"c3","channel":5}`); !samePixels(first, again) {
		t.Fatal("the same projection asked again gives another picture")
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

func TestHostileMessagesGetErrorsAndTheSessionGoesOn(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	c.errorFor(`{"type":"project","layer":"c1","channel":0}`, "run a picture first")
	c.errorFor(`{"type":"open","layer":"c1"}`, "run a picture first")
	c.errorFor(`{not json`, "bad JSON")
	c.errorFor(`[1,2,3]`, "bad JSON")
	c.errorFor(`{"type":"run","sample":"00-coat.png","evil":true}`, "unknown field")
	// One object per message, nothing after it.
	c.errorFor(`{"type":"run","sample":"00-coat.png"} garbage`, "bad JSON message: data after the JSON object")
	c.errorFor(`{"type":"run","sample":"00-coat.png"}{"type":"run","sample":"00-coat.png"}`, "bad JSON message: data after the JSON object")
	c.errorFor(`{"type":"run","sample":"00-coat.png"}]`, "data after the JSON object")
	// Names are case-sensitive (encoding/json alone would take these).
	c.errorFor(`{"Type":"run","sample":"00-coat.png"}`, `bad JSON message: unknown field "Type" (did you mean "type"?`)
	c.errorFor(`{"type":"run","SAMPLE":"00-coat.png"}`, `unknown field "SAMPLE" (did you mean "sample"?`)
	c.errorFor(`{"type":"run","ſample":"00-coat.png"}`, `unknown field "ſample" (did you mean "sample"?`)
	c.errorFor(`{"type":"run","sample":"00-coat.png","TYPE":"project"}`, `unknown field "TYPE"`)
	c.errorFor(`{"type":"dance"}`, "unknown message type")
	c.errorFor(`{}`, `no "type"`)
	c.errorFor(`{"type":"run"}`, `needs "sample" or "upload"`)
	c.errorFor(`{"type":"run","sample":"../../etc/passwd.png"}`, "no sample")
	c.errorFor(`{"type":"run","sample":"00-coat.png","upload":"x"}`, "not both")
	c.errorFor(`{"type":"run","upload":"feedface"}`, "no upload")
	c.errorFor(`{"type":"run","model":"vgg99","sample":"00-coat.png"}`, "unknown model")
	c.errorFor(`{"type":"run","sample":"00-coat.png","layer":"c1"}`, "a run takes")
	// A long name is refused before any error could echo it.
	c.errorFor(`{"type":"run","model":"`+strings.Repeat("m", 9000)+`","sample":"00-coat.png"}`, `"model" of 9000 bytes`)
	c.errorFor(`{"type":"run","upload":"`+strings.Repeat("u", 300)+`"}`, `"upload" of 300 bytes`)
	c.errorFor(`{"type":"run","sample":"`+strings.Repeat("s", 201)+`"}`, `"sample" of 201 bytes`)
	c.errorFor(`{"type":"run","sample":"00-coat.png","open":["`+strings.Repeat("o", 201)+`"]}`, `a name of 201 bytes in "open"`)
	c.errorFor(`{"type":"run","sample":"00-coat.png","open":"c1"}`, "bad JSON")
	c.errorFor(`{"type":"run","sample":"00-coat.png","open":[`+strings.Repeat(`"x",`, 5000)+`"x"]}`, "at most 4096 blocks")
	c.errorFor(strings.Repeat(" ", 100<<10)+`{"type":"run"}`, "larger than 64 KiB")
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	var e session.Error
	c.json("error", &e)

	// White space after the object is not data.
	c.run(f, "{\"type\":\"run\",\"sample\":\"00-coat.png\"}\n\t ")
	for msg, want := range map[string]string{
		`{"type":"project","LAYER":"c1","channel":0}`:                    `unknown field "LAYER" (did you mean "layer"?`,
		`{"type":"project","layer":"c1","Channel":0}`:                    `unknown field "Channel"`,
		`{"type":"project","layer":"c1","channel":0} {}`:                 "data after the JSON object",
		`{"type":"project","layer":"c9","channel":0}`:                    `no layer "c9" in lenet5-untrained`,
		`{"type":"project","layer":"","channel":0}`:                      `needs "layer"`,
		`{"type":"project","channel":0}`:                                 `needs "layer"`,
		`{"type":"project","layer":"` + strings.Repeat("c", 5000) + `"}`: `"layer" of 5000 bytes (names are at most 200)`,
		`{"type":"project","layer":"c1\\u0000","channel":0}`:             "no layer",
		`{"type":"project","layer":"../c1","channel":0}`:                 "no layer",
		`{"type":"project","layer":3,"channel":0}`:                       "bad JSON",
		`{"type":"project","layer":["c1"],"channel":0}`:                  "bad JSON",
		`{"type":"project","layer":"c1","channel":6}`:                    "channel must be in [0,6)",
		`{"type":"project","layer":"c1"}`:                                "channel must be",
		`{"type":"project","layer":"c1","channel":0,"y":28,"x":0}`:       "outside layer c1's 28x28 maps",
		`{"type":"project","layer":"c1","channel":0,"y":-1,"x":0}`:       "outside",
		`{"type":"project","layer":"c1","channel":0,"y":3}`:              "both y and x",
		`{"type":"project","layer":"f6","channel":0,"y":0,"x":1}`:        "outside layer f6's 1x1 maps",
		`{"type":"project","run":99,"layer":"c1","channel":0}`:           "run 99 is gone",
		`{"type":"project","layer":"c1","channel":1e99}`:                 "bad JSON",
		`{"type":"project","layer":"c1","channel":0,"sample":"a.png"}`:   "a projection takes",
		`{"type":"open","layer":"c1"}`:                                   "c1 (Conv2d) does not open",
		`{"type":"open","layer":"nowhere"}`:                              `no layer "nowhere"`,
		`{"type":"open","layer":"c1","channel":0}`:                       "an open takes",
		`{"type":"open","run":99,"layer":"c1"}`:                          "run 99 is gone",
	} {
		c.errorFor(msg, want)
	}
	// Still alive: a projection from the kept trace, then a new run.
	c.project(`{"type":"project","layer":"s2","channel":0}`)
	c.run(f, `{"type":"run","sample":"00-coat.png"}`)
}

func TestOverHardLimitClosesOnlyThatConnection(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	_ = c.conn.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("x"), 2<<20))
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) && !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "EOF") {
				t.Logf("connection ended with %v", err)
			}
			break
		}
	}
	// Another page still works.
	f.dial(t).run(f, `{"type":"run","sample":"00-coat.png"}`)
}

func TestInvalidUTF8ClosesWith1007(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte("{\"type\":\"run\",\"sample\":\"\xff\xfe.png\"}")); err != nil {
		t.Fatal(err)
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
		t.Fatalf("after a text frame of invalid UTF-8: %v, want close 1007", err)
	}
	// Another page still works.
	f.dial(t).run(f, `{"type":"run","sample":"00-coat.png"}`)
}

// Wait returns once every open session has been sent its 1001 close frame,
// and not before stop is closed.
func TestWaitReturnsOnceSessionsAreToldGoingAway(t *testing.T) {
	f := newFixture(t)
	clients := []*client{f.dial(t), f.dial(t), f.dial(t)}
	// A session that ended on its own is not waited for.
	gone := f.dial(t)
	gone.conn.Close()
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := f.h.Wait(short); err == nil || !strings.Contains(err.Error(), "3 websocket sessions not closed") {
		t.Fatalf("Wait with three sessions open and no stop: %v, want it to time out on 3 sessions", err)
	}
	close(f.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.h.Wait(ctx); err != nil {
		t.Fatalf("Wait after stop: %v", err)
	}
	// The frames are on their way already: each client reads its own at once.
	for i, c := range clients {
		_ = c.conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := c.conn.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Errorf("client %d after Wait: %v, want close 1001", i, err)
		}
	}
}

func TestSessionCap(t *testing.T) {
	f := newLimitedFixture(t, 2)
	a, b := f.dial(t), f.dial(t)
	url := "ws" + strings.TrimPrefix(f.srv.URL, "http")
	// A third is accepted only to hear why it is closed: 1013 (try again
	// later) and the reason, which the page shows.
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	conn.Close()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseTryAgainLater || !strings.Contains(ce.Text, "too many open sessions (the limit is 2); try again") {
		t.Fatalf("third session: %v, want close 1013 with the reason", err)
	}
	// The open sessions are unaffected.
	a.run(f, `{"type":"run","sample":"00-coat.png"}`)
	// One leaves: a new one gets its place (once the server has seen it go).
	b.conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err == nil {
			// A session says hello; a refused one closes.
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err = conn.ReadMessage()
			conn.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no session after one of two left: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestShutdownClosesSessions(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	close(f.stop)
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("after stop: %v, want close 1001 (going away)", err)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	h := session.Header{Kind: session.KindMaps, Run: 7, Index: -1, C: 3, H: 4, W: 5, Min: -1.5, Max: 2.25}
	b := h.Frame([]byte{9, 8, 7})
	if len(b) != session.HeaderSize+3 || b[0] != session.KindMaps || b[1] != session.Version {
		t.Fatalf("frame % x", b)
	}
	// The documented layout, byte for byte.
	want := []byte{1, 2, 0, 0, 7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0xc0, 0xbf, 0, 0, 0x10, 0x40, 9, 8, 7}
	if !bytes.Equal(b, want) {
		t.Fatalf("frame\n% x\nwant\n% x", b, want)
	}
	got, payload, ok := session.ParseHeader(b)
	if !ok || got != h || !bytes.Equal(payload, []byte{9, 8, 7}) {
		t.Fatalf("parsed %+v %v", got, payload)
	}
	if _, _, ok := session.ParseHeader(b[:31]); ok {
		t.Fatal("a 31-byte frame parsed")
	}
}

// TestConcurrentSessions runs several pages at once on one shared model;
// with -race it checks that sessions share nothing but read-only weights.
func TestConcurrentSessions(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"a", "b", "c", "d"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := f.dial(t)
			for range 3 {
				c.run(f, `{"type":"run","sample":"00-coat.png"}`)
				c.project(`{"type":"project","layer":"c3.act","channel":3}`)
			}
		})
	}
}
