package train

import (
	"fmt"

	"github.com/convscope/convscope/nn"
)

// ema is an exponential moving average of a model's state dict (its
// parameters and buffers, as torchvision's ExponentialMovingAverage with
// use_buffers=True and timm's ModelEmaV2): after every optimizer step
//
//	avg = d·avg + (1−d)·value,  d = min(decay, (1+n)/(10+n))
//
// where n counts the updates so far, so that the first steps' average
// follows the fast-moving weights (timm's warm-up of the decay) instead of
// holding the initialisation for thousands of steps.
type ema struct {
	decay float32
	n     int
	// live are the model's tensors and avg their averages, in the state
	// dict's order; names are their keys.
	names     []string
	live, avg []*nn.Tensor
}

func newEMA(net *nn.Sequential, decay float32) *ema {
	e := &ema{decay: decay}
	for _, p := range append(net.Params(), net.Buffers()...) {
		e.names = append(e.names, p.Name)
		e.live = append(e.live, p.Value)
		e.avg = append(e.avg, p.Value.Clone())
	}
	return e
}

// update folds the model's current state into the average.
func (e *ema) update() {
	d := min(e.decay, float32(1+e.n)/float32(10+e.n))
	e.n++
	for i, v := range e.live {
		a := e.avg[i].Data
		for j, x := range v.Data {
			a[j] = d*a[j] + (1-d)*x
		}
	}
}

// swap exchanges the model's values and the averages, in place: after one
// swap the model holds the average (to evaluate or save it), after a second
// the trained weights again.
func (e *ema) swap() {
	for i, v := range e.live {
		a := e.avg[i].Data
		for j := range v.Data {
			v.Data[j], a[j] = a[j], v.Data[j]
		}
	}
}

// state is the average under "ema.<key>", for the run's resume file.
func (e *ema) state() map[string]*nn.Tensor {
	out := make(map[string]*nn.Tensor, len(e.names))
	for i, name := range e.names {
		out["ema."+name] = e.avg[i]
	}
	return out
}

// load takes the average back from a resume file's tensors.
func (e *ema) load(tensors map[string]*nn.Tensor, n int) error {
	for i, name := range e.names {
		t, ok := tensors["ema."+name]
		if !ok || !nn.SameShape(t.Shape, e.avg[i].Shape) {
			return fmt.Errorf("the state holds no average of %s", name)
		}
	}
	for i, name := range e.names {
		copy(e.avg[i].Data, tensors["ema."+name].Data)
	}
	e.n = n
	return nil
}
