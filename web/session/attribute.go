package session

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/convscope/convscope/deconv"
	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/viz"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/zoo"
)

// heatSide is the least side, in pixels, of a heat map's picture (it is
// smooth, so a 28x28 input's is drawn at 224 rather than pixelated).
const heatSide = 224

// progressEvery is the least time between two progress messages of a job.
const progressEvery = 250 * time.Millisecond

// job is a long attribution under way in its own goroutine.
type job struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has ended
}

// stopJob stops the session's job, if any, and waits for it to end (at
// most one batch of passes). s.mu is held.
func (s *session) stopJob() {
	if s.job == nil {
		return
	}
	s.job.cancel()
	<-s.job.done
	s.job = nil
}

// busy reports a job still running; s.mu is held.
func (s *session) busy() bool {
	if s.job == nil {
		return false
	}
	select {
	case <-s.job.done:
		return false
	default:
		return true
	}
}

func (h *Handler) methods() []MethodRef {
	var out []MethodRef
	for _, m := range deconv.Methods() {
		out = append(out, MethodRef{Name: m.Name(), About: m.About(), Heat: m.Heat(), Long: m.Long()})
	}
	return out
}

// project answers a projection request from the kept pass: the unit's or
// the class's attribution under the asked method (the deconvnet by
// default). Quick methods answer at once; long ones start a job.
func (s *session) project(req Request) error {
	if req.Model != "" || req.Sample != "" || req.Upload != "" || req.Open != nil || req.File != "" {
		return errors.New("a projection takes run, layer, channel, y, x, class and method only")
	}
	name := req.Method
	if name == "" {
		name = "deconvnet"
	}
	method, err := deconv.Lookup(name)
	if err != nil {
		return fmt.Errorf("unknown method %q (want %s)", clip(req.Method), strings.Join(deconv.MethodNames(), ", "))
	}
	s.stopJob()
	goal, err := s.goal(req, method)
	if err != nil {
		return err
	}
	m, run := s.model, s.runs
	model := deconv.Model{Net: m.Net.Net, ChannelsLast: func(layer string) bool {
		row, _, _ := m.Summary.Row(layer)
		return row.Layout == "hwc"
	}}
	// A long method (many passes) works in a goroutine of its own (a job),
	// streams its progress, and stops when a newer request comes.
	if !method.Long() {
		// One backward walk over the kept pass; its tensors come from the
		// arena, above the pass.
		defer s.arena.ReleaseTo(s.traceMark)
		asked := time.Now()
		r, err := deconv.Explain(context.Background(), model, s.trace.Input, s.trace, name, goal, deconv.Options{}, nil)
		if err != nil {
			return err
		}
		// Timed when ready, before it is sent (a client that has the
		// answer finds it counted).
		s.h.Metrics.Projection(m.Name, name, time.Since(asked))
		return s.sendAttribution(run, m, s.trace.Input, r, deconv.Progress{}, deconv.Caveats(s.trace, r))
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &job{cancel: cancel, done: make(chan struct{})}
	s.job = j
	x := s.trace.Input.Clone() // the kept pass may go while the job runs
	go func() {
		defer close(j.done)
		defer cancel()
		err := s.longAttribution(ctx, run, m, model, x, name, goal)
		if err != nil && ctx.Err() == nil && !errors.Is(err, errClosed) {
			_ = s.pushJSON(Error{Type: "error", Request: "project", Message: err.Error()})
		}
	}()
	return nil
}

// longAttribution runs a long method once it has a slot and its memory,
// sending the map as it fills in (occlusion) or its progress.
func (s *session) longAttribution(ctx context.Context, run int, m *catalog.Model, model deconv.Model, x *nn.Tensor, name string, goal deconv.Goal) error {
	// Its passes are not kept: it takes, for as long as it runs, a batch
	// of passes' memory from the budget and one of the server's slots for
	// long methods, which bound the CPU they take from other visitors.
	asked := time.Now() // the answer's time counts its wait in line
	pass := PassCost(m.Summary)
	batch := 8
	if total := s.h.Budget.Total(); total > 0 {
		batch = int(min(8, max(1, total/4/pass-1)))
	}
	wait := func(ahead int) { _ = s.pushJSON(Queued{Type: "queued", Model: m.Name, Ahead: ahead}) }
	waitCtx, cancel := context.WithTimeout(ctx, s.h.QueueWait)
	defer cancel()
	if err := s.h.Long.Acquire(waitCtx, 1, wait); err != nil {
		return s.busyError(ctx, err, "other visitors' long attributions")
	}
	defer s.h.Long.Release(1)
	cost := int64(batch+1) * pass
	if err := s.h.Budget.Acquire(waitCtx, cost, wait); err != nil {
		return s.busyError(ctx, err, "other visitors' pictures")
	}
	defer s.h.Budget.Release(cost)

	last := time.Now()
	var sendErr error
	progress := func(p deconv.Progress) {
		if sendErr != nil || p.Done == p.Total || time.Since(last) < progressEvery {
			return
		}
		last = time.Now()
		if p.Partial != nil {
			r := &deconv.Result{Method: name, Map: p.Partial, Class: -1}
			sendErr = s.sendAttribution(run, m, x, r, p, nil)
			return
		}
		sendErr = s.pushJSON(Progress{Type: "progress", Run: run, Method: name, Done: p.Done, Total: p.Total})
	}
	r, err := deconv.Explain(ctx, model, x, nil, name, goal, deconv.Options{Batch: batch}, progress)
	if err != nil {
		return err
	}
	if sendErr != nil {
		return sendErr
	}
	s.h.Metrics.Projection(m.Name, name, time.Since(asked))
	return s.sendAttribution(run, m, x, r, deconv.Progress{}, nil)
}

// busyError explains a wait that ended: the session's own stop, or the
// server's load.
func (s *session) busyError(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, errTooBig) {
		return errors.New("this attribution needs more memory than the server allows for all visitors' passes")
	}
	return fmt.Errorf("the server is busy with %s; try again in a minute", what)
}

// goal reads what a projection request asks to explain, checked against
// the kept pass.
func (s *session) goal(req Request, method deconv.Method) (deconv.Goal, error) {
	if s.trace == nil {
		return deconv.Goal{}, errors.New("nothing to project yet: run a picture first")
	}
	if req.Run != nil && *req.Run != s.runs {
		return deconv.Goal{}, fmt.Errorf("run %d is gone; the latest run is %d", *req.Run, s.runs)
	}
	classes := len(s.model.Classes)
	if req.Class != nil || method.Name() == "gradcam" {
		if req.Channel != nil || req.Y != nil || req.X != nil {
			return deconv.Goal{}, errors.New("a class's projection takes no channel, y or x")
		}
		g := deconv.Goal{Class: -1}
		if req.Class != nil {
			if *req.Class < -1 || *req.Class >= classes {
				return g, fmt.Errorf("class must be in [0,%d), or -1 for the predicted one", classes)
			}
			g.Class = *req.Class
		}
		if req.Layer != "" {
			if method.Name() != "gradcam" {
				return g, fmt.Errorf("a class's projection takes a layer only under gradcam (the layer whose maps it weighs)")
			}
			if _, _, ok := s.model.Summary.Row(req.Layer); !ok {
				return g, fmt.Errorf("no layer %q in %s", clip(req.Layer), s.model.Name)
			}
			g.Layer = req.Layer
		}
		return g, nil
	}
	info, _, err := s.keptRow(req)
	if err != nil {
		return deconv.Goal{}, err
	}
	mc, mh, mw := info.Maps[0], 1, 1
	if len(info.Maps) == 3 {
		mh, mw = info.Maps[1], info.Maps[2]
	}
	if req.Channel == nil || *req.Channel < 0 || *req.Channel >= mc {
		return deconv.Goal{}, fmt.Errorf("channel must be in [0,%d) for layer %s", mc, info.Name)
	}
	if _, _, ok := s.trace.Locate(info.Name); !ok { // a row of the summary the pass did not record
		return deconv.Goal{}, fmt.Errorf("layer %s did not run in this pass (an auxiliary head runs only in training)", info.Name)
	}
	g := deconv.Goal{Layer: info.Name, Channel: *req.Channel}
	switch {
	case req.Y == nil && req.X == nil:
	case req.Y == nil || req.X == nil:
		return g, errors.New("give both y and x, or neither for the strongest unit")
	case *req.Y < 0 || *req.Y >= mh || *req.X < 0 || *req.X >= mw:
		return g, fmt.Errorf("unit (y=%d, x=%d) outside layer %s's %dx%d maps", *req.Y, *req.X, info.Name, mh, mw)
	default:
		g.At = &deconv.Pos{Y: *req.Y, X: *req.X}
	}
	return g, nil
}

// sendAttribution sends a result: its description, then its PNG (a heat
// map over the input x, or a signed picture shaped like it). p is the
// progress of a partial map; notes are the walk's caveats.
func (s *session) sendAttribution(run int, m *catalog.Model, x *nn.Tensor, r *deconv.Result, p deconv.Progress, notes []string) error {
	method, _ := deconv.Lookup(r.Method)
	in := m.Net.Input
	meta := Projection{Type: "projection", Run: run, Method: r.Method, Class: r.Class, Layer: r.Layer, Index: -1,
		Unit: Unit(r.Unit), Strongest: r.Strongest, Activation: r.Value, Heat: method.Heat(),
		Partial: p.Total > 0, Done: p.Done, Total: p.Total, Notes: notes}
	if r.Layer != "" {
		info, index, ok := m.Summary.Row(r.Layer)
		if !ok {
			return fmt.Errorf("layer %s has no summary row", r.Layer)
		}
		meta.Index, meta.RF, meta.Whole = index, info.RF, info.Whole
		if r.Class < 0 {
			meta.Box = box(info, r.Unit, in)
		}
	}
	var png []byte
	var hdr Header
	if meta.Heat {
		meta.Shape = r.Map.Shape[2:]
		k := max(1, (heatSide+in[2]-1)/in[2])
		img, lo, hi, err := viz.Heat(r.Map, x, in[2]*k, in[1]*k)
		if err != nil {
			return err
		}
		meta.Lo, meta.Hi = lo, hi
		if png, err = viz.PNG(img); err != nil {
			return err
		}
		hdr = Header{Kind: KindProjection, Run: run, Index: meta.Index, C: 3, H: in[1] * k, W: in[2] * k, Min: lo, Max: hi}
	} else {
		img, peak, err := viz.Signed(r.Map)
		if err != nil {
			return err
		}
		meta.Peak = peak
		if png, err = viz.PNG(img); err != nil {
			return err
		}
		hdr = Header{Kind: KindProjection, Run: run, Index: meta.Index, C: in[0], H: in[1], W: in[2], Min: -peak, Max: peak}
	}
	if meta.Partial {
		return s.pushPair(meta, hdr.Frame(png))
	}
	return s.pushPair(meta, hdr.Frame(png), numbersFrame(run, meta.Index, r.Map))
}

// numbersFrame is a KindNumbers frame of an attribution map (1,C,H,W).
func numbersFrame(run, index int, t *nn.Tensor) []byte {
	c, h, w := t.Shape[1], t.Shape[2], t.Shape[3]
	lo, hi := t.Data[0], t.Data[0]
	b := make([]byte, 4*len(t.Data))
	for i, v := range t.Data {
		lo, hi = min(lo, v), max(hi, v)
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Header{Kind: KindNumbers, Run: run, Index: index, C: c, H: h, W: w, Min: lo, Max: hi}.Frame(b)
}

// box is a unit's receptive field clipped to the input, [x0, y0, x1, y1).
func box(info zoo.LayerInfo, u deconv.Unit, in []int) [4]int {
	b := info.Box(u.Y, u.X, in[1], in[2])
	return [4]int{b.Min.X, b.Min.Y, b.Max.X, b.Max.Y}
}
