package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/arith"
	"github.com/convscope/convscope/data"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/zoo"
)

// Timing and size limits of a connection.
const (
	// writeWait is the time allowed to write one message.
	writeWait = 10 * time.Second
	// pongWait is the time allowed between two messages (a pong counts)
	// from the client; the read deadline is reset after each.
	pongWait = 60 * time.Second
	// pingPeriod is how often the writer pings; less than pongWait.
	pingPeriod = pongWait * 9 / 10
	// maxMessage is the largest client message acted on; a larger one is
	// drained and answered with an error, the connection stays open.
	maxMessage = 64 << 10
	// hardLimit is the largest client message read at all; past it the
	// connection is closed (1009, message too big).
	hardLimit = 1 << 20
	// sendQueue is how many frames may wait for the writer.
	sendQueue = 64
)

// errClosed reports that the writer has stopped, so nothing more can be sent.
var errClosed = errors.New("connection closed")

// frame is one queued websocket message.
type frame struct {
	kind int // websocket.TextMessage or websocket.BinaryMessage
	data []byte
}

// session is one websocket's state. Only the reader goroutine touches the
// fields below send (a job only sends); the writer touches conn's write
// side only.
type session struct {
	conn   *websocket.Conn
	h      *Handler
	log    *slog.Logger
	send   chan frame
	done   chan struct{} // closed when the writer exits
	pairMu sync.Mutex    // keeps a JSON message and its binary frame together

	// mu guards what follows against the idle timer (forget); the reader
	// holds it while it handles a message.
	mu    sync.Mutex
	idle  *time.Timer    // forgets the pass after IdleRelease without a message
	heard time.Time      // when the last message was handled
	runs  int            // runs started, the latest run's number
	held  *catalog.Model // the model this session holds in the catalog
	cost  int64          // the bytes of h.Budget the kept pass holds
	model *catalog.Model // model of the kept trace
	trace *nn.Trace      // the latest complete forward pass, or nil
	// arena holds the kept trace's tensors (up to traceMark) and, above
	// it, a projection's while it is computed; a run of another model
	// starts a new one, so buffers of the old model's shapes go.
	arena      *nn.Arena
	arenaModel string
	traceMark  int
	// job is the long attribution under way, if any (attribute.go).
	job *job
	// request is the id of the request that opened the connection.
	request string
	// expect is the file an upload or own-model message announced: the
	// next message, binary, brings it.
	expect *Request
}

func newSession(conn *websocket.Conn, h *Handler, log *slog.Logger) *session {
	return &session{conn: conn, h: h, log: log, send: make(chan frame, sendQueue), done: make(chan struct{})}
}

// writeLoop is the connection's only writer. It stops when the send queue
// is closed (the reader is done), when a write fails, or when stop
// is closed (server shutdown), and closes the connection on its way out.
func (s *session) writeLoop(stop <-chan struct{}) {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		s.conn.Close()
		close(s.done)
	}()
	for {
		select {
		case f, ok := <-s.send:
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				_ = s.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
				return
			}
			if err := s.conn.WriteMessage(f.kind, f.data); err != nil {
				s.log.Debug("write failed", "err", err)
				return
			}
			if f.kind == websocket.CloseMessage { // the reader ends the connection
				return
			}
		case <-ticker.C:
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := s.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-stop:
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
			_ = s.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"))
			return
		}
	}
}

// readLoop is the connection's only reader: it reads one client message at
// a time and handles it before reading the next.
func (s *session) readLoop() {
	s.conn.SetReadLimit(hardLimit)
	_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(s.pong)
	if err := s.pushJSON(s.hello()); err != nil {
		return
	}
	if s.h.IdleRelease > 0 {
		s.idle = time.AfterFunc(s.h.IdleRelease, func() { s.forgetIdle(s.h.IdleRelease) })
		defer s.idle.Stop()
	}
	defer s.forget()
	for {
		s.conn.SetReadLimit(s.readLimit())
		kind, r, err := s.conn.NextReader()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				s.log.Info("read failed", "err", err)
			}
			return
		}
		if up := s.expect; up != nil {
			s.expect = nil
			if kind == websocket.BinaryMessage {
				if err := s.receive(up, r); err != nil {
					return
				}
				_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
				continue
			}
			if up.File != discard {
				if err := s.pushJSON(Error{Type: "error", Request: up.Type, Message: "the file did not follow: send its bytes as one binary message right after " + up.Type}); err != nil {
					return
				}
			}
		}
		msg, err := io.ReadAll(io.LimitReader(r, maxMessage+1))
		if err != nil {
			return
		}
		switch {
		case len(msg) > maxMessage:
			if _, err := io.Copy(io.Discard, r); err != nil {
				s.log.Info("message over the hard limit, closing", "err", err)
				return
			}
			err = s.pushJSON(Error{Type: "error", Message: fmt.Sprintf("message larger than %d KiB", maxMessage>>10)})
		case kind != websocket.TextMessage:
			err = s.pushJSON(Error{Type: "error", Message: "binary messages are not accepted; send JSON text"})
		case !utf8.Valid(msg):
			// A text frame must be UTF-8 (RFC 6455 8.1); gorilla does not
			// check. Close with 1007, invalid frame payload data.
			s.log.Info("text message is not UTF-8, closing")
			_ = s.push(frame{websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, "text message is not valid UTF-8")})
			return
		default:
			s.mu.Lock()
			err = s.handle(msg)
			s.heard = time.Now()
			s.mu.Unlock()
		}
		if s.idle != nil {
			s.idle.Reset(s.h.IdleRelease)
		}
		if errors.Is(err, errClosed) {
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
	}
}

// pong is the pong handler: the client is there, its read deadline moves.
func (s *session) pong(string) error { return s.conn.SetReadDeadline(time.Now().Add(pongWait)) }

// forget drops the kept pass, its buffers and the session's hold on its
// model: after IdleRelease without a message (a page left open in a
// background tab holds nothing), and when the connection ends. A later
// projection asks for a run first; the page runs its picture again.
func (s *session) forget() {
	s.forgetIdle(0)
}

// forgetIdle forgets unless a message was handled less than quiet ago (a
// timer that fired while a long run was being handled).
func (s *session) forgetIdle(quiet time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if quiet > 0 && s.busy() { // a long attribution at work is not idle
		return
	}
	s.stopJob()
	if (s.held == nil && s.trace == nil) || time.Since(s.heard) < quiet {
		return
	}
	s.trace, s.model, s.arena, s.arenaModel = nil, nil, nil, ""
	s.h.Budget.Release(s.cost)
	s.cost = 0
	s.h.models.Release(s.held)
	s.held = nil
	s.log.Debug("kept pass forgotten")
}

// handle acts on one message. Every failure except a closed connection is
// answered with an error message; a panic is too, so that one bad request
// never ends the connection or the server.
func (s *session) handle(msg []byte) (err error) {
	var req Request
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic handling a message", "panic", p, "type", req.Type)
			err = fmt.Errorf("internal error handling %q", clip(req.Type))
		}
		if err != nil && !errors.Is(err, errClosed) {
			s.log.Debug("request failed", "type", req.Type, "err", err)
			err = s.pushJSON(Error{Type: "error", Request: clip(req.Type), Message: err.Error()})
		}
	}()
	if err := decodeRequest(msg, &req); err != nil {
		req = Request{}
		return fmt.Errorf("bad JSON message: %v", err)
	}
	switch req.Type {
	case "run":
		return s.run(req)
	case "open":
		return s.open(req)
	case "project":
		return s.project(req)
	case "arith":
		return s.arith(req)
	case "upload", "own-model":
		return s.announce(req)
	case "":
		return errors.New(`message has no "type"`)
	}
	return fmt.Errorf("unknown message type %q (want run, open, project, arith, upload or own-model)", clip(req.Type))
}

// requestKeys are Request's JSON field names, exactly as they must be sent.
var requestKeys = func() []string {
	var keys []string
	t := reflect.TypeFor[Request]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}()

// decodeRequest decodes one client message strictly: one JSON object and
// nothing after it, with no unknown field. Unlike encoding/json's own
// matching, a key must be a field's name exactly: "Type" or "LAYER" is
// refused, not taken for "type" or "layer".
func decodeRequest(msg []byte, req *Request) error {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object (send one object per message)")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(msg, &fields); err != nil {
		return err
	}
	// Sorted, so that a message with several wrong keys always names the
	// same one.
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if slices.Contains(requestKeys, k) {
			continue
		}
		// The decoder took k for a field whose name differs only by case.
		if i := slices.IndexFunc(requestKeys, func(name string) bool { return strings.EqualFold(name, k) }); i >= 0 {
			return fmt.Errorf("unknown field %q (did you mean %q? names are case-sensitive)", clip(k), requestKeys[i])
		}
		return fmt.Errorf("unknown field %q", clip(k))
	}
	// Names are short; a long one is refused here, so that no error
	// echoes more than MaxName bytes of what a client sent.
	for field, v := range map[string]string{"type": req.Type, "file": req.File, "model": req.Model, "sample": req.Sample,
		"upload": req.Upload, "layer": req.Layer, "method": req.Method} {
		if len(v) > MaxName {
			return fmt.Errorf("%q of %d bytes (names are at most %d)", field, len(v), MaxName)
		}
	}
	for _, v := range req.Open {
		if len(v) > MaxName {
			return fmt.Errorf(`a name of %d bytes in "open" (names are at most %d)`, len(v), MaxName)
		}
	}
	return nil
}

// MaxName bounds every name a client message holds (models, samples,
// uploads, layers, methods).
const MaxName = 200

func (s *session) hello() Hello {
	h := Hello{Type: "hello", Version: Version, Galleries: map[string][]SampleRef{}, Methods: s.h.methods(), OwnModels: s.h.OwnModels, Server: s.h.Server, Request: s.request}
	for _, e := range s.h.models.Entries() {
		g := catalog.GalleryFor(e)
		about := ""
		if f, err := zoo.Lookup(e.Model); err == nil {
			about = f.Description
		}
		ref := ModelRef{Name: e.Name, Model: e.Model, Dataset: e.Dataset, Input: e.Input, Classes: e.Classes,
			Trained: e.Trained, Accuracy: e.TestAccuracy, Gallery: g, About: about, Source: e.Source, Variant: e.Variant}
		for _, sn := range s.h.models.Snapshots(e.Name) {
			ref.Snapshots = append(ref.Snapshots, SnapshotRef{Name: sn.Name, Epoch: sn.Epoch, Accuracy: sn.TestAccuracy})
		}
		h.Models = append(h.Models, ref)
		if _, done := h.Galleries[g]; done {
			continue
		}
		list := []SampleRef{}
		for _, p := range s.h.samples.List(g, e.Classes) {
			list = append(list, SampleRef{File: p.File, Label: p.Label})
		}
		h.Galleries[g] = list
	}
	return h
}

// picture finds the run's input: a sample of the model's gallery
// (catalog.GalleryFor) or a stored upload, inverted when its border is
// bright and the model was trained on light objects on black
// (catalog.Entry.InvertsBrightPictures).
func (s *session) picture(m *catalog.Model, req Request) (img image.Image, in Input, err error) {
	switch {
	case req.Sample != "" && req.Upload != "":
		return nil, in, errors.New(`give "sample" or "upload", not both`)
	case req.Sample != "":
		// "gallery/file" names any gallery's picture (the page keeps its
		// input when the model changes); a plain file is the model's own.
		gallery, file, ok := strings.Cut(req.Sample, "/")
		if !ok {
			gallery, file = catalog.GalleryFor(m.Entry), req.Sample
		}
		img, err = s.h.samples.Open(gallery, file)
		return img, Input{Source: "sample", Name: req.Sample}, err
	case req.Upload != "":
		img, ok := s.h.uploads.Get(req.Upload)
		if !ok {
			return nil, in, fmt.Errorf("no upload %q (uploads are kept for a while only; upload again)", req.Upload)
		}
		inverted := m.InvertsBrightPictures() && data.BrightBorder(img)
		if inverted {
			img = data.InvertImage(img)
		}
		return img, Input{Source: "upload", Name: req.Upload, Inverted: inverted}, nil
	}
	return nil, in, errors.New(`a run needs "sample" or "upload"`)
}

// admit takes the budget's share for a pass of m, first giving back the
// kept pass's (the run replaces it), waiting in line if it must and telling
// the page its place.
func (s *session) admit(m *catalog.Model) error {
	s.trace, s.model = nil, nil
	s.h.Budget.Release(s.cost)
	s.cost = 0
	cost := PassCost(m.Summary)
	if s.h.Budget.TryAcquire(cost) {
		s.cost = cost
		s.h.Metrics.QueueWait(0)
		return nil
	}
	since := time.Now()
	// The arena's buffers are the memory the share paid for: a session
	// that waits (or gives up) holds none.
	s.arena, s.arenaModel = nil, ""
	ctx, cancel := context.WithTimeout(context.Background(), s.h.QueueWait)
	defer cancel()
	var closed error
	err := s.h.Budget.Acquire(ctx, cost, func(ahead int) {
		if err := s.pushJSON(Queued{Type: "queued", Model: m.Name, Ahead: ahead}); err != nil {
			closed = err
			cancel()
		}
	})
	switch {
	case closed != nil:
		return closed
	case errors.Is(err, errTooBig):
		return fmt.Errorf("a pass of %s needs %d MiB; this server allows %d MiB for all visitors' passes", m.Name, cost>>20, s.h.Budget.Total()>>20)
	case err != nil:
		return fmt.Errorf("the server is busy: other visitors' pictures hold its memory for %s; try again in a minute", s.h.QueueWait)
	}
	s.cost = cost
	s.h.Metrics.QueueWait(time.Since(since))
	return nil
}

// maxOpen bounds a run's list of open blocks.
const maxOpen = 4096

// run streams one forward pass: start, input, then one layer message and
// one maps frame per layer as each is computed (with the parts of the
// blocks req.Open names right after their block), then the prediction. The
// pass becomes the session's trace for projections.
func (s *session) run(req Request) error {
	if req.Layer != "" || req.Channel != nil || req.Y != nil || req.X != nil || req.Run != nil || req.Method != "" || req.Class != nil || req.File != "" {
		return errors.New("a run takes model, sample or upload, and open only")
	}
	if len(req.Open) > maxOpen {
		return fmt.Errorf("a run opens at most %d blocks", maxOpen)
	}
	s.stopJob() // a new picture: the old one's attribution is moot
	asked := time.Now()
	m, err := s.h.models.Open(req.Model)
	if err != nil {
		return err
	}
	s.h.models.Release(s.held) // one hold a session: the new model's
	s.held = m
	img, in, err := s.picture(m, req)
	if err != nil {
		return err
	}
	if err := s.admit(m); err != nil {
		return err
	}
	s.runs++
	run := s.runs
	s.trace, s.model = nil, nil
	if s.arena == nil || s.arenaModel != m.Name {
		s.arena, s.arenaModel = nn.NewArena(), m.Name
	}
	s.arena.Reset() // the old trace is gone

	c, h, w := m.Net.Input[0], m.Net.Input[1], m.Net.Input[2]
	pixels, x := m.Prepare(img) // as the CLI does (card.Card.Prepare)

	if err := s.pushJSON(Start{Type: "start", Run: run, Model: m.Name, Input: m.Net.Input, Classes: m.Classes, Layers: m.Summary.Layers}); err != nil {
		return err
	}
	in.Type, in.Run, in.Shape = "input", run, m.Net.Input
	hdr := Header{Kind: KindInput, Run: run, Index: -1, C: c, H: h, W: w, Min: 0, Max: 1}
	if err := s.pushPair(in, hdr.Frame(data.PixelBytes(pixels))); err != nil {
		return err
	}

	open := make(map[string]bool, len(req.Open))
	for _, name := range req.Open {
		open[name] = true
	}
	begin := time.Now()
	last := begin
	tr, err := m.Net.Net.Forward(x, &nn.Context{Arena: s.arena}, func(_ int, st *nn.Step) error {
		if err := s.sendLayer(run, m.Summary, st, time.Since(last)); err != nil {
			return err
		}
		if err := s.sendParts(run, m.Summary, st, open); err != nil {
			return err
		}
		last = time.Now()
		return nil
	})
	if err != nil {
		if errors.Is(err, errClosed) {
			return err
		}
		return fmt.Errorf("run %d: %w", run, err)
	}
	probs := nn.Softmax(tr.Output())
	s.trace, s.model, s.traceMark = tr, m, s.arena.Mark()
	// Timed when the answer is ready, before it is sent: a client that
	// has the answer finds it counted.
	s.h.Metrics.Run(m.Name, time.Since(asked))
	return s.pushJSON(Prediction{Type: "prediction", Run: run, Classes: m.Classes, Probs: probs.Data,
		Top: nn.ArgMax(probs.Data), Ms: ms(time.Since(begin))})
}

// sendLayer sends one step's layer message and maps frame.
func (s *session) sendLayer(run int, sum *zoo.Summary, st *nn.Step, took time.Duration) error {
	row, index, ok := sum.Row(st.Layer.Name())
	if !ok {
		return fmt.Errorf("layer %s has no summary row", st.Layer.Name())
	}
	maps, err := viz.Quantize(row.ChannelsFirst(st.Out))
	if err != nil {
		return err
	}
	maps = maps.Shrink(MaxMapSide)
	meta := Layer{Type: "layer", Run: run, Index: index, Name: row.Name, Kind: row.Type,
		Shape: row.Maps, Min: maps.Min, Max: maps.Max, Ms: ms(took)}
	hdr := Header{Kind: KindMaps, Run: run, Index: index, C: maps.C, H: maps.H, W: maps.W, Min: maps.Min, Max: maps.Max}
	return s.pushPair(meta, hdr.Frame(maps.Pixels))
}

// sendParts sends the parts of st when open names it, and theirs when open
// names them, depth first.
func (s *session) sendParts(run int, sum *zoo.Summary, st *nn.Step, open map[string]bool) error {
	if !open[st.Layer.Name()] {
		return nil
	}
	for _, part := range st.Parts() {
		if part == nil { // an auxiliary head that did not run
			continue
		}
		if err := s.sendLayer(run, sum, part, 0); err != nil {
			return err
		}
		if err := s.sendParts(run, sum, part, open); err != nil {
			return err
		}
	}
	return nil
}

// open streams the parts of one block of the kept trace, as a run does
// for the blocks it opens.
func (s *session) open(req Request) error {
	if req.Model != "" || req.Sample != "" || req.Upload != "" || req.Open != nil || req.Channel != nil || req.Y != nil || req.X != nil || req.Method != "" || req.Class != nil || req.File != "" {
		return errors.New("an open takes run and layer only")
	}
	row, _, err := s.keptRow(req)
	if err != nil {
		return err
	}
	if row.Parts == 0 {
		return fmt.Errorf("layer %s (%s) does not open", row.Name, row.Type)
	}
	_, st, ok := s.trace.Locate(row.Name)
	if !ok || !slices.ContainsFunc(st.Parts(), func(p *nn.Step) bool { return p != nil }) {
		return fmt.Errorf("layer %s did not run in this pass (an auxiliary head runs only in training)", row.Name)
	}
	return s.sendParts(s.runs, s.model.Summary, st, map[string]bool{row.Name: true})
}

// arith answers how one unit of the kept trace was computed.
func (s *session) arith(req Request) error {
	if req.Model != "" || req.Sample != "" || req.Upload != "" || req.Open != nil || req.Method != "" || req.Class != nil || req.File != "" {
		return errors.New("an arith takes run, layer, channel, y and x only")
	}
	row, _, err := s.keptRow(req)
	if err != nil {
		return err
	}
	if req.Channel == nil {
		return errors.New(`"arith" needs "channel" (and "y" and "x" on a map)`)
	}
	if row.Layout == "hwc" {
		return fmt.Errorf("layer %s holds its maps channels-last; its arithmetic is not shown yet", row.Name)
	}
	y, x := 0, 0
	if req.Y != nil {
		y = *req.Y
	}
	if req.X != nil {
		x = *req.X
	}
	_, st, ok := s.trace.Locate(row.Name)
	if !ok {
		return fmt.Errorf("layer %s did not run in this pass", row.Name)
	}
	u, err := arith.Explain(st, 0, *req.Channel, y, x)
	if err != nil {
		return err
	}
	u.Trim(MaxArithTerms)
	return s.pushJSON(Arith{Type: "arith", Run: s.runs, Unit: u})
}

// keptRow checks that a request about the kept trace can be answered and
// finds the summary row (and its index) of the layer it names.
func (s *session) keptRow(req Request) (zoo.LayerInfo, int, error) {
	if s.trace == nil {
		return zoo.LayerInfo{}, 0, fmt.Errorf("nothing to %s yet: run a picture first", req.Type)
	}
	if req.Run != nil && *req.Run != s.runs {
		return zoo.LayerInfo{}, 0, fmt.Errorf("run %d is gone; the latest run is %d", *req.Run, s.runs)
	}
	if req.Layer == "" {
		return zoo.LayerInfo{}, 0, fmt.Errorf(`%q needs "layer", a layer's name`, req.Type)
	}
	row, index, ok := s.model.Summary.Row(req.Layer)
	if !ok {
		return zoo.LayerInfo{}, 0, fmt.Errorf("no layer %q in %s", clip(req.Layer), s.model.Name)
	}
	return row, index, nil
}

// clip shortens a client's string for an error message, at a character
// boundary.
func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// push queues a frame for the writer; errClosed once the writer is gone.
func (s *session) push(f frame) error {
	select {
	case s.send <- f:
		return nil
	case <-s.done:
		return errClosed
	}
}

// pushPair queues a JSON message and the binary frames it describes,
// together: a job's goroutine and the reader may both be sending.
func (s *session) pushPair(meta any, binaries ...[]byte) error {
	s.pairMu.Lock()
	defer s.pairMu.Unlock()
	if err := s.pushJSON(meta); err != nil {
		return err
	}
	for _, b := range binaries {
		if err := s.push(frame{websocket.BinaryMessage, b}); err != nil {
			return err
		}
	}
	return nil
}

// pushJSON queues v as a JSON text message.
func (s *session) pushJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	return s.push(frame{websocket.TextMessage, b})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
