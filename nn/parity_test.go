package nn

// Parity with PyTorch 1.13 in float32: every layer forward and backward,
// the losses, the optimizers over five steps, gradient clipping and the
// learning-rate schedules, against fixtures written by tools/parity/ops.py
// (nn/testdata/ops.safetensors and train.safetensors). Each case is built
// from the fixture's own configuration (PyTorch's constructor arguments in
// the safetensors metadata), so nothing here repeats the script's numbers.
// This file is not a finite-difference test (gradcheck_test.go is) and does
// not cover the deconvnet rules or the within-channel LRN, which PyTorch
// does not have.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
)

// Tolerances, as max|got-want| / max|want| over a tensor. float32 sums of a
// few hundred to a few thousand terms taken in another order than PyTorch's
// differ by about 1e-6 relative; 1e-4 leaves room and still catches a wrong
// index or a wrong constant. A case whose largest tensor has more than 1e4
// elements may hold a reduction that long (no sum in a layer's forward or
// backward has more terms than its largest tensor has elements), and float32
// rounding there grows with the length, so it gets 1e-3.
const (
	parityTol     = 1e-4
	parityTolLong = 1e-3
	longReduction = 10000
)

func parityTolFor(n int) float64 {
	if n > longReduction {
		return parityTolLong
	}
	return parityTol
}

// relDiff is max|a-b| / max(max|b|, 1e-6), the figure every parity test reports.
func relDiff(a, b []float32) float64 {
	var d, s float64
	for i := range b {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		s = max(s, math.Abs(float64(b[i])))
	}
	return d / max(s, 1e-6)
}

// fixture is one parity file: its tensors and its metadata.
type fixture struct {
	t    map[string]*Tensor
	meta map[string]string
}

func loadFixture(tb testing.TB, path string) fixture {
	tb.Helper()
	ts, meta, err := LoadSafetensors(path)
	if err != nil {
		tb.Fatalf("%v (regenerate with /usr/bin/python3 tools/parity/ops.py)", err)
	}
	tb.Logf("%s: written by %s under torch %s", path, meta["script"], meta["torch"])
	return fixture{ts, meta}
}

// get returns the fixture's tensor name, failing the test when it is absent.
func (f fixture) get(tb testing.TB, name string) *Tensor {
	tb.Helper()
	v, ok := f.t[name]
	if !ok {
		tb.Fatalf("fixture has no tensor %q", name)
	}
	return v
}

// cases decodes the JSON list under metadata key into v.
func (f fixture) cases(tb testing.TB, key string, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(f.meta[key]), v); err != nil {
		tb.Fatalf("metadata %q: %v", key, err)
	}
}

// parity accumulates one case's comparisons.
type parity struct {
	t     *testing.T
	what  string // "Conv2d conv.dilated {args}", named in every failure
	tol   float64
	worst float64
	at    string
}

// close compares got with want and logs or reports the max relative difference.
func (p *parity) close(tensor string, got, want *Tensor) {
	p.t.Helper()
	if got == nil || !SameShape(got.Shape, want.Shape) {
		var s []int
		if got != nil {
			s = got.Shape
		}
		p.t.Errorf("%s: %s has shape %s, PyTorch %s", p.what, tensor, ShapeString(s), ShapeString(want.Shape))
		return
	}
	d := relDiff(got.Data, want.Data)
	if d > p.worst || p.at == "" {
		p.worst, p.at = d, tensor
	}
	if d > p.tol || math.IsNaN(d) {
		p.t.Errorf("%s: %s max relative difference %.3g > %g", p.what, tensor, d, p.tol)
		return
	}
	p.t.Logf("%s: %.2g", tensor, d)
}

// worstOf keeps the largest difference seen per group (an op, a loss...).
type worstOf map[string]struct {
	d  float64
	at string
}

func (w worstOf) add(group, at string, d float64) {
	if cur, ok := w[group]; !ok || d > cur.d {
		w[group] = struct {
			d  float64
			at string
		}{d, at}
	}
}

func (w worstOf) log(t *testing.T) {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("worst %-18s %.2g (%s)", k, w[k].d, w[k].at)
	}
}

// torchArgs are the keyword arguments of the PyTorch modules the fixture
// builds, under PyTorch's names; unknown ones fail the decode.
type torchArgs struct {
	InChannels      int     `json:"in_channels"`
	OutChannels     int     `json:"out_channels"`
	KernelSize      int     `json:"kernel_size"`
	Stride          int     `json:"stride"`
	Padding         int     `json:"padding"`
	Dilation        int     `json:"dilation"`
	Groups          int     `json:"groups"`
	OutputPadding   int     `json:"output_padding"`
	Bias            bool    `json:"bias"`
	CeilMode        bool    `json:"ceil_mode"`
	CountIncludePad *bool   `json:"count_include_pad"`
	OutputSize      [2]int  `json:"output_size"`
	Size            int     `json:"size"`
	Alpha           float32 `json:"alpha"`
	Beta            float32 `json:"beta"`
	K               float32 `json:"k"`
	NumFeatures     int     `json:"num_features"`
	NormalizedShape int     `json:"normalized_shape"`
	Eps             float32 `json:"eps"`
	Momentum        float32 `json:"momentum"`
	ChannelsFirst   bool    `json:"channels_first"`
	NegativeSlope   float32 `json:"negative_slope"`
	Approximate     string  `json:"approximate"`
	InFeatures      int     `json:"in_features"`
	OutFeatures     int     `json:"out_features"`
	P               float32 `json:"p"`
}

func (a torchArgs) pool() PoolConfig {
	return PoolConfig{Kernel: a.KernelSize, Stride: a.Stride, Padding: a.Padding, CeilMode: a.CeilMode,
		ExcludePad: a.CountIncludePad != nil && !*a.CountIncludePad}
}

// parityLayers builds the Go layer for each PyTorch class from its
// arguments: one line per class. nil means the arguments ask for something
// nn does not implement.
var parityLayers = map[string]func(name string, a torchArgs) Layer{
	"Conv2d": func(n string, a torchArgs) Layer {
		return NewConv(n, ConvConfig{In: a.InChannels, Out: a.OutChannels, Kernel: a.KernelSize, Stride: a.Stride,
			Padding: a.Padding, Dilation: a.Dilation, Groups: a.Groups, Bias: a.Bias})
	},
	"ConvTranspose2d": func(n string, a torchArgs) Layer {
		return NewConvTranspose2d(n, a.InChannels, a.OutChannels, a.KernelSize, a.Stride, a.Padding, a.OutputPadding, a.Bias)
	},
	"MaxPool2d":         func(n string, a torchArgs) Layer { return NewMaxPool(n, a.pool()) },
	"AvgPool2d":         func(n string, a torchArgs) Layer { return NewAvgPool(n, a.pool()) },
	"AdaptiveAvgPool2d": func(n string, a torchArgs) Layer { return NewAdaptiveAvgPool2d(n, a.OutputSize[0], a.OutputSize[1]) },
	"LocalResponseNorm": func(n string, a torchArgs) Layer { return NewLocalResponseNorm(n, a.Size, a.Alpha, a.Beta, a.K) },
	"BatchNorm2d": func(n string, a torchArgs) Layer {
		b := NewBatchNorm2d(n, a.NumFeatures)
		b.Eps, b.Momentum = a.Eps, a.Momentum
		return b
	},
	"LayerNorm":   func(n string, a torchArgs) Layer { return NewLayerNorm(n, a.NormalizedShape, a.Eps, a.ChannelsFirst) },
	"ReLU":        func(n string, _ torchArgs) Layer { return NewReLU(n) },
	"ReLU6":       func(n string, _ torchArgs) Layer { return NewReLU6(n) },
	"LeakyReLU":   func(n string, a torchArgs) Layer { return NewLeakyReLU(n, a.NegativeSlope) },
	"Hardswish":   func(n string, _ torchArgs) Layer { return NewHardswish(n) },
	"Hardsigmoid": func(n string, _ torchArgs) Layer { return NewHardsigmoid(n) },
	"Sigmoid":     func(n string, _ torchArgs) Layer { return NewSigmoid(n) },
	"Tanh":        func(n string, _ torchArgs) Layer { return NewTanh(n) },
	"SiLU":        func(n string, _ torchArgs) Layer { return NewSiLU(n) },
	"GELU": func(n string, a torchArgs) Layer {
		if a.Approximate != "none" {
			return nil
		}
		return NewGELU(n)
	},
	"Linear":    func(n string, a torchArgs) Layer { return NewLinear(n, a.InFeatures, a.OutFeatures, a.Bias) },
	"Flatten":   func(n string, _ torchArgs) Layer { return NewFlatten(n) },
	"Dropout":   func(n string, a torchArgs) Layer { return NewDropout(n, a.P) },
	"Dropout2d": func(n string, a torchArgs) Layer { return NewDropout2d(n, a.P) },
}

// layerCase is one entry of the fixture's "layers" metadata.
type layerCase struct {
	Name    string          `json:"name"`
	Type    string          `json:"type"`
	Args    json.RawMessage `json:"args"`
	Train   bool            `json:"train"`
	Params  []string        `json:"params"`
	Buffers []string        `json:"buffers"`
}

// TestParityLayers runs every layer case of ops.safetensors: forward,
// backward of sum(y*r) (r is the fixture's random dy), every parameter
// gradient, the running statistics after a training step, and for
// max-pooling the switches and MaxUnpool2d.
func TestParityLayers(t *testing.T) {
	f := loadFixture(t, "testdata/ops.safetensors")
	var cases []layerCase
	f.cases(t, "layers", &cases)
	worst, seen := worstOf{}, map[string]bool{}
	for _, c := range cases {
		seen[c.Type] = true
		t.Run(c.Name, func(t *testing.T) {
			if d, at, ok := layerParity(t, f, c); ok {
				worst.add(c.Type, c.Name+"."+at, d)
			}
		})
	}
	for typ := range parityLayers {
		if !seen[typ] {
			t.Errorf("no fixture case for %s: add one to tools/parity/ops.py", typ)
		}
	}
	t.Logf("%d layer cases", len(cases))
	worst.log(t)
}

// layerParity checks one case and returns its worst difference and where.
func layerParity(t *testing.T, f fixture, c layerCase) (float64, string, bool) {
	var a torchArgs
	decodeStrict(t, c.Name+" ("+c.Type+")", c.Args, &a)
	build, ok := parityLayers[c.Type]
	if !ok {
		t.Fatalf("%s: no Go layer for PyTorch's %s", c.Name, c.Type)
	}
	l := build(c.Name, a)
	if l == nil {
		t.Fatalf("%s: nn has no %s%s", c.Name, c.Type, c.Args)
	}
	mode := "eval"
	if c.Train {
		mode = "train"
	}
	p := &parity{t: t, what: fmt.Sprintf("%s %s%s %s", c.Type, c.Name, c.Args, mode)}

	// Parameters and buffers: the same names, shapes and values as PyTorch's.
	params := l.Params()
	var buffers []*Param
	if b, ok := l.(Buffered); ok {
		buffers = b.Buffers()
	}
	for _, set := range []struct {
		kind string
		ps   []*Param
		want []string
	}{{"parameters", params, c.Params}, {"buffers", buffers, c.Buffers}} {
		var got []string
		for _, q := range set.ps {
			got = append(got, strings.TrimPrefix(q.Name, c.Name+"."))
			v := f.get(t, q.Name)
			if !SameShape(q.Value.Shape, v.Shape) {
				t.Fatalf("%s: %s has shape %s, PyTorch %s", p.what, q.Name, ShapeString(q.Value.Shape), ShapeString(v.Shape))
			}
			copy(q.Value.Data, v.Data)
		}
		if strings.Join(got, ",") != strings.Join(set.want, ",") {
			t.Fatalf("%s: %s %v, PyTorch %v", p.what, set.kind, got, set.want)
		}
	}

	x, r, wantY := f.get(t, c.Name+".x"), f.get(t, c.Name+".r"), f.get(t, c.Name+".y")
	p.tol = parityTolFor(max(x.Len(), wantY.Len()))
	if out, err := l.OutputShape(x.Shape[1:]); err != nil || !SameShape(out, wantY.Shape[1:]) {
		t.Errorf("%s: OutputShape(%v) = %v, %v; PyTorch %v", p.what, x.Shape[1:], out, err, wantY.Shape[1:])
	}
	y, saved, err := l.Forward(x, &Context{Train: c.Train})
	if err != nil {
		t.Fatalf("%s: forward: %v", p.what, err)
	}
	p.close("y", y, wantY)
	if !SameShape(y.Shape, wantY.Shape) {
		return 0, "", false
	}
	g := Grads{}
	dx, err := l.Backward(r, &Step{Layer: l, In: x, Out: y, Saved: saved}, Gradient, g)
	if err != nil {
		t.Fatalf("%s: backward: %v", p.what, err)
	}
	p.close("dx", dx, f.get(t, c.Name+".dx"))
	for _, q := range params {
		suffix := strings.TrimPrefix(q.Name, c.Name+".")
		p.close("d"+suffix, g.For(q), f.get(t, c.Name+".d"+suffix))
	}
	if c.Train {
		for _, q := range buffers {
			p.close(q.Name[len(c.Name)+1:]+" after", q.Value, f.get(t, q.Name+".after"))
		}
	}
	if idx, ok := f.t[c.Name+".indices"]; ok {
		sw, _ := saved.(Switches)
		if len(sw) != idx.Len() {
			t.Errorf("%s: %d switches, PyTorch %d indices", p.what, len(sw), idx.Len())
		} else {
			bad := 0
			for i, s := range sw {
				if float32(s) != idx.Data[i] {
					if bad++; bad <= 3 {
						t.Errorf("%s: switch %d is %d, PyTorch's index %v", p.what, i, s, idx.Data[i])
					}
				}
			}
			t.Logf("switches: %d of %d differ", bad, len(sw))
		}
		if want, ok := f.t[c.Name+".unpool"]; ok {
			up, err := Unpool(r, sw, x.Shape)
			if err != nil {
				t.Fatalf("%s: unpool: %v", p.what, err)
			}
			p.close("unpool(r)", up, want)
		}
	}
	return p.worst, p.at, true
}

// lossCase is one entry of the "losses" metadata.
type lossCase struct {
	Name string          `json:"name"`
	Type string          `json:"type"`
	Args json.RawMessage `json:"args"`
}

// lossArgs are F.cross_entropy's options (Weight: the fixture holds a
// "<case>.weight" tensor).
type lossArgs struct {
	LabelSmoothing float32 `json:"label_smoothing"`
	Weight         bool    `json:"weight"`
}

// decodeStrict decodes raw into v, failing on fields v does not have, so
// that an option the Go side would ignore cannot pass unnoticed.
func decodeStrict(tb testing.TB, what string, raw json.RawMessage, v any) {
	tb.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		tb.Fatalf("%s: arguments %s: %v", what, raw, err)
	}
}

// TestParityLosses compares F.cross_entropy (class weights, label
// smoothing) and F.mse_loss: the loss and the gradient of the mean loss.
func TestParityLosses(t *testing.T) {
	f := loadFixture(t, "testdata/train.safetensors")
	var cases []lossCase
	f.cases(t, "losses", &cases)
	worst := worstOf{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var a lossArgs
			decodeStrict(t, c.Name, c.Args, &a)
			p := &parity{t: t, what: fmt.Sprintf("%s %s%s", c.Type, c.Name, c.Args), tol: parityTol}
			var (
				loss  float32
				d     *Tensor
				err   error
				dname string
			)
			switch c.Type {
			case "cross_entropy":
				ce := CrossEntropyLoss{Smoothing: a.LabelSmoothing}
				if a.Weight {
					ce.Weights = f.get(t, c.Name+".weight").Data
				}
				var labels []int
				for _, v := range f.get(t, c.Name+".labels").Data {
					labels = append(labels, int(v))
				}
				loss, d, err = ce.Compute(f.get(t, c.Name+".logits"), labels)
				dname = "dlogits"
			case "mse_loss":
				loss, d, err = MSE(f.get(t, c.Name+".x"), f.get(t, c.Name+".target"))
				dname = "dx"
			default:
				t.Fatalf("%s: unknown loss %s", c.Name, c.Type)
			}
			if err != nil {
				t.Fatalf("%s: %v", p.what, err)
			}
			p.close("loss", FromData([]float32{loss}, 1), f.get(t, c.Name+".loss"))
			p.close(dname, d, f.get(t, c.Name+"."+dname))
			worst.add(c.Type, c.Name+"."+p.at, p.worst)
		})
	}
	worst.log(t)
}

// optimCase is one entry of the "optimizers" metadata.
type optimCase struct {
	Name   string          `json:"name"`
	Type   string          `json:"type"`
	Args   json.RawMessage `json:"args"`
	Steps  int             `json:"steps"`
	Params []string        `json:"params"`
}

// optimArgs are torch.optim's arguments (weight_decay applies to the
// "weight" group only).
type optimArgs struct {
	LR          float32    `json:"lr"`
	Momentum    float32    `json:"momentum"`
	Dampening   float32    `json:"dampening"`
	WeightDecay float32    `json:"weight_decay"`
	Nesterov    bool       `json:"nesterov"`
	Betas       [2]float32 `json:"betas"`
	Eps         float32    `json:"eps"`
}

// TestParityOptimizers runs SGD, Adam and AdamW for five steps with the
// fixture's gradients on a decayed "weight" and a NoDecay "bias" (PyTorch:
// two parameter groups) and compares the parameters after every step.
func TestParityOptimizers(t *testing.T) {
	f := loadFixture(t, "testdata/train.safetensors")
	var cases []optimCase
	f.cases(t, "optimizers", &cases)
	worst := worstOf{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var a optimArgs
			decodeStrict(t, c.Name, c.Args, &a)
			var opt Optimizer
			switch c.Type {
			case "SGD":
				o := NewSGD(a.LR, a.Momentum, a.WeightDecay)
				o.Dampening, o.Nesterov = a.Dampening, a.Nesterov
				opt = o
			case "Adam", "AdamW":
				o := NewAdam(a.LR, a.WeightDecay)
				o.Beta1, o.Beta2, o.Eps, o.Decoupled = a.Betas[0], a.Betas[1], a.Eps, c.Type == "AdamW"
				opt = o
			default:
				t.Fatalf("%s: unknown optimizer %s", c.Name, c.Type)
			}
			p := &parity{t: t, what: fmt.Sprintf("%s %s%s", c.Type, c.Name, c.Args), tol: parityTol}
			var ps []*Param
			for _, n := range c.Params {
				ps = append(ps, &Param{Name: n, Value: f.get(t, c.Name+"."+n).Clone(), NoDecay: n != "weight"})
			}
			// The values, and their displacement from the start: a few steps
			// move a parameter by a few percent, so an error in the update
			// shows 10-100 times larger in the displacement.
			moved := func(w *Tensor, start string) *Tensor {
				d := w.Clone()
				for j, v := range f.get(t, start).Data {
					d.Data[j] -= v
				}
				return d
			}
			for i := 1; i <= c.Steps; i++ {
				g := Grads{}
				for _, q := range ps {
					g[q] = f.get(t, fmt.Sprintf("%s.%s.g%d", c.Name, q.Name, i)).Clone()
				}
				opt.Step(g)
				for _, q := range ps {
					start, want := c.Name+"."+q.Name, f.get(t, fmt.Sprintf("%s.%s.after%d", c.Name, q.Name, i))
					p.close(fmt.Sprintf("%s after step %d", q.Name, i), q.Value, want)
					p.close(fmt.Sprintf("%s displacement after step %d", q.Name, i), moved(q.Value, start), moved(want, start))
				}
			}
			worst.add(c.Type, c.Name+" "+p.at, p.worst)
		})
	}
	worst.log(t)
}

// TestParityClipGradNorm compares ClipGradNorm with clip_grad_norm_ when
// it clips and when the norm is already below the bound.
func TestParityClipGradNorm(t *testing.T) {
	f := loadFixture(t, "testdata/train.safetensors")
	var cases []struct {
		Name    string  `json:"name"`
		MaxNorm float32 `json:"max_norm"`
		Count   int     `json:"count"`
	}
	f.cases(t, "clips", &cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			p := &parity{t: t, what: fmt.Sprintf("clip_grad_norm_ %s max_norm=%g", c.Name, c.MaxNorm), tol: parityTol}
			g, order := Grads{}, []*Tensor{}
			for i := 0; i < c.Count; i++ {
				v := f.get(t, fmt.Sprintf("%s.g%d", c.Name, i)).Clone()
				g[&Param{Name: fmt.Sprint(i), Value: New(v.Shape...)}] = v
				order = append(order, v)
			}
			total := ClipGradNorm(g, c.MaxNorm)
			p.close("total norm", FromData([]float32{total}, 1), f.get(t, c.Name+".total"))
			for i, v := range order {
				p.close(fmt.Sprintf("g%d clipped", i), v, f.get(t, fmt.Sprintf("%s.g%d.after", c.Name, i)))
			}
		})
	}
}

// schedArgs are a schedule case's arguments (PyTorch's names).
type schedArgs struct {
	Type           string  `json:"type"`
	LR             float32 `json:"lr"`
	StepSize       int     `json:"step_size"`
	Gamma          float32 `json:"gamma"`
	Milestones     []int   `json:"milestones"`
	TMax           int     `json:"T_max"`
	EtaMin         float32 `json:"eta_min"`
	StartFactor    float32 `json:"start_factor"`
	Warmup         int     `json:"warmup"`
	Total          int     `json:"total"`
	MaxLR          float32 `json:"max_lr"`
	TotalSteps     int     `json:"total_steps"`
	PctStart       float32 `json:"pct_start"`
	DivFactor      float32 `json:"div_factor"`
	FinalDivFactor float32 `json:"final_div_factor"`
}

// paritySchedules builds each schedule from PyTorch's arguments, one line each.
var paritySchedules = map[string]func(a schedArgs) Schedule{
	"StepLR":            func(a schedArgs) Schedule { return StepLR(a.LR, a.StepSize, a.Gamma) },
	"MultiStepLR":       func(a schedArgs) Schedule { return MultiStepLR(a.LR, a.Milestones, a.Gamma) },
	"CosineAnnealingLR": func(a schedArgs) Schedule { return CosineLR(a.LR, a.EtaMin, a.TMax) },
	"WarmupCosine": func(a schedArgs) Schedule {
		return WarmupCosineLR(a.LR, a.StartFactor, a.EtaMin, a.Warmup, a.Total)
	},
	"OneCycleLR": func(a schedArgs) Schedule {
		return OneCycleLR(a.MaxLR, a.TotalSteps, a.PctStart, a.DivFactor, a.FinalDivFactor)
	},
}

// TestParitySchedules compares Schedule(t) with get_last_lr() after t
// scheduler steps, t = 0..N.
func TestParitySchedules(t *testing.T) {
	f := loadFixture(t, "testdata/train.safetensors")
	var cases []struct {
		Name  string          `json:"name"`
		Args  json.RawMessage `json:"args"`
		Steps int             `json:"steps"`
	}
	f.cases(t, "schedules", &cases)
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			var a schedArgs
			decodeStrict(t, c.Name, c.Args, &a)
			seen[a.Type] = true
			build, ok := paritySchedules[a.Type]
			if !ok {
				t.Fatalf("%s: unknown schedule %s", c.Name, a.Type)
			}
			s := build(a)
			got := New(c.Steps + 1)
			for i := range got.Data {
				got.Data[i] = s(i)
			}
			want := f.get(t, c.Name+".lr")
			p := &parity{t: t, what: fmt.Sprintf("%s %s%s", a.Type, c.Name, c.Args), tol: parityTol}
			p.close("lr(t)", got, want)
			if p.worst > parityTol && SameShape(got.Shape, want.Shape) {
				for i := range got.Data {
					if d := math.Abs(float64(got.Data[i] - want.Data[i])); d > parityTol*math.Abs(float64(want.Data[i])) {
						t.Logf("t=%d: %g, PyTorch %g", i, got.Data[i], want.Data[i])
					}
				}
			}
		})
	}
	for typ := range paritySchedules {
		if !seen[typ] {
			t.Errorf("no fixture case for %s: add one to tools/parity/ops.py", typ)
		}
	}
}
