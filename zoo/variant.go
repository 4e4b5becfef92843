package zoo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/convscope/convscope/nn"
)

// A variant is an architecture of the zoo with changes, as the
// architecture lab writes them (Zeiler & Fergus' Figure 6 experiment, He
// et al.'s plain networks): a comma-separated list, each one of
//
//	no-bn              drop every BatchNorm2d
//	no-lrn             drop every LocalResponseNorm
//	no-dropout         drop every Dropout and Dropout2d
//	no-shortcut        every residual block keeps only its body (a "plain"
//	                   network): y = after(body(x)), no shortcut added
//	-LAYER             drop the layer named LAYER (a pooling layer, say)
//	LAYER=KxK/S        give the convolution LAYER a KxK kernel with stride S
//	                   and padding (K-1)/2, its channels unchanged
//	LAYER=KxK/S/P      the same with padding P
//
// e.g. "features.0=11x11/4,-features.2". The first linear layer after the
// convolutions is resized to what the changed layers give it. A variant is
// written into a checkpoint's metadata (MetaVariant) so the checkpoint
// rebuilds the same layers.

// MetaVariant is the checkpoint metadata key of a model's variant (its
// changes in canonical form); absent for the architecture as registered.
const MetaVariant = "variant"

// MaxChanges bounds a variant's list, so that metadata cannot ask for
// unbounded work.
const MaxChanges = 16

// Change is one edit of a variant.
type Change struct {
	// Op is "no-bn", "no-lrn", "no-dropout", "no-shortcut", "drop" or
	// "conv".
	Op string
	// Layer names the layer of a "drop" or "conv" change.
	Layer string
	// Kernel, Stride and Padding are a "conv" change's new geometry.
	Kernel, Stride, Padding int
}

// String is the change as ParseVariant reads it.
func (c Change) String() string {
	switch c.Op {
	case "drop":
		return "-" + c.Layer
	case "conv":
		return fmt.Sprintf("%s=%dx%d/%d/%d", c.Layer, c.Kernel, c.Kernel, c.Stride, c.Padding)
	}
	return c.Op
}

// dropTypes are the layer types each "no-" change removes.
var dropTypes = map[string][]string{
	"no-bn":      {"BatchNorm2d"},
	"no-lrn":     {"LocalResponseNorm"},
	"no-dropout": {"Dropout", "Dropout2d"},
}

// ParseVariant reads a comma-separated list of changes (see the package's
// variant syntax above); "" is no change.
func ParseVariant(s string) ([]Change, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxChanges {
		return nil, fmt.Errorf("variant: %d changes, at most %d", len(parts), MaxChanges)
	}
	var out []Change
	for _, p := range parts {
		p = strings.TrimSpace(p)
		c, err := parseChange(p)
		if err != nil {
			return nil, fmt.Errorf("variant change %q: %w", p, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func parseChange(p string) (Change, error) {
	if _, ok := dropTypes[p]; ok || p == "no-shortcut" {
		return Change{Op: p}, nil
	}
	if name, ok := strings.CutPrefix(p, "-"); ok {
		if !validLayerName(name) {
			return Change{}, fmt.Errorf("want -LAYER with a layer's name")
		}
		return Change{Op: "drop", Layer: name}, nil
	}
	name, geom, ok := strings.Cut(p, "=")
	if !ok || !validLayerName(name) {
		return Change{}, fmt.Errorf("want no-bn, no-lrn, no-dropout, no-shortcut, -LAYER or LAYER=KxK/S[/P]")
	}
	f := strings.Split(geom, "/")
	if len(f) < 2 || len(f) > 3 {
		return Change{}, fmt.Errorf("want KxK/S or KxK/S/P after =")
	}
	kh, kw, square := strings.Cut(f[0], "x")
	if !square {
		kw = kh
	}
	k, err1 := strconv.Atoi(kh)
	k2, err2 := strconv.Atoi(kw)
	s, err3 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || err3 != nil || k != k2 || k < 1 || k > 31 || s < 1 || s > 16 {
		return Change{}, fmt.Errorf("kernel %q and stride %q: want a square kernel of 1 to 31 and a stride of 1 to 16", f[0], f[1])
	}
	c := Change{Op: "conv", Layer: name, Kernel: k, Stride: s, Padding: (k - 1) / 2}
	if len(f) == 3 {
		var err error
		if c.Padding, err = strconv.Atoi(f[2]); err != nil || c.Padding < 0 || c.Padding > k {
			return Change{}, fmt.Errorf("padding %q: want 0 to the kernel size", f[2])
		}
	}
	return c, nil
}

// validLayerName accepts the names the zoo gives layers ("features.0",
// "layer1.0.conv1").
func validLayerName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// FormatVariant is the canonical form of changes (what MetaVariant holds).
func FormatVariant(changes []Change) string {
	s := make([]string, len(changes))
	for i, c := range changes {
		s[i] = c.String()
	}
	return strings.Join(s, ",")
}

// applyVariant edits layers in place of their parents and returns the new
// top-level list; every change must find something to change.
func applyVariant(layers []nn.Layer, changes []Change) ([]nn.Layer, error) {
	for _, c := range changes {
		hits := 0
		layers = editLayers(layers, func(l nn.Layer) (nn.Layer, bool) {
			switch c.Op {
			case "drop":
				if l.Name() == c.Layer {
					hits++
					return nil, false
				}
			case "conv":
				if conv, ok := l.(*nn.Conv2d); ok && l.Name() == c.Layer {
					hits++
					cfg := conv.ConvConfig
					cfg.Kernel, cfg.Stride, cfg.Padding = c.Kernel, c.Stride, c.Padding
					return nn.NewConv(conv.Name(), cfg), true
				}
			case "no-shortcut":
				if r, ok := l.(*nn.Residual); ok {
					hits++
					parts := []nn.Layer{r.Body}
					if r.After != nil {
						parts = append(parts, r.After)
					}
					return nn.NewChain(r.Name(), parts...), true
				}
			default:
				for _, t := range dropTypes[c.Op] {
					if l.Type() == t {
						hits++
						return nil, false
					}
				}
			}
			return l, true
		})
		if hits == 0 {
			what := map[string]string{"drop": "no layer " + c.Layer, "conv": "no convolution " + c.Layer,
				"no-shortcut": "no residual block"}[c.Op]
			if what == "" {
				what = "no " + strings.Join(dropTypes[c.Op], " or ")
			}
			return nil, fmt.Errorf("variant change %s: %s to change", c, what)
		}
	}
	return layers, nil
}

// editLayers calls f on every layer, parents before children, replacing
// each with what f returns or dropping it; it descends into the
// containers the zoo builds with (Chain, Residual, Concat, AuxHead).
func editLayers(ls []nn.Layer, f func(nn.Layer) (nn.Layer, bool)) []nn.Layer {
	out := ls[:0:0]
	for _, l := range ls {
		l, keep := f(l)
		if !keep {
			continue
		}
		editChildren(l, f)
		out = append(out, l)
	}
	return out
}

func editChildren(l nn.Layer, f func(nn.Layer) (nn.Layer, bool)) {
	switch t := l.(type) {
	case *nn.Chain:
		t.Layers = editLayers(t.Layers, f)
	case *nn.Residual:
		t.Body.Layers = editLayers(t.Body.Layers, f)
		if t.Shortcut != nil {
			t.Shortcut.Layers = editLayers(t.Shortcut.Layers, f)
		}
		if t.After != nil {
			if after := editLayers([]nn.Layer{t.After}, f); len(after) == 1 {
				t.After = after[0]
			} else {
				t.After = nil
			}
		}
	case *nn.Concat:
		for _, b := range t.Branches {
			b.Layers = editLayers(b.Layers, f)
		}
	case *nn.AuxHead:
		t.Head.Layers = editLayers(t.Head.Layers, f)
	}
}

// refitLinear walks a chain of layers from input shape in and resizes a
// linear layer whose input features no longer match what reaches it (the
// classifier after changed convolutions), descending into chains.
func refitLinear(ls []nn.Layer, in []int) ([]int, error) {
	shape := in
	for i, l := range ls {
		if ch, ok := l.(*nn.Chain); ok {
			out, err := refitLinear(ch.Layers, shape)
			if err != nil {
				return nil, err
			}
			shape = out
			continue
		}
		if lin, ok := l.(*nn.Linear); ok {
			if n := shape[len(shape)-1]; len(shape) == 1 && n != lin.InFeatures {
				ls[i] = nn.NewLinear(lin.Name(), n, lin.OutFeatures, lin.Bias != nil)
			}
			l = ls[i]
		}
		out, err := l.OutputShape(shape)
		if err != nil {
			return nil, err
		}
		shape = out
	}
	return shape, nil
}
