//go:build js && wasm

// The browser side of speedwasm (see main.go).

package main

import (
	"slices"
	"syscall/js"
	"time"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

func main() {
	js.Global().Set("convscopeTime", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 4 {
			return map[string]any{"error": "convscopeTime(model, variant, [C, H, W], classes)"}
		}
		var input []int
		for i := range args[2].Length() {
			input = append(input, args[2].Index(i).Int())
		}
		ms, err := timeModel(args[0].String(), args[1].String(), input, args[3].Int())
		if err != nil {
			return map[string]any{"error": err.Error()}
		}
		return map[string]any{"ms": ms, "runs": runs}
	}))
	select {} // the functions stay callable
}

// runs is how many timed passes a model gets after one to warm up.
const runs = 5

// timeModel is the median time, in milliseconds, of one forward pass of
// one picture through the architecture (random weights: the time does not
// depend on their values).
func timeModel(model, variant string, input []int, classes int) (float64, error) {
	m, err := zoo.BuildVariant(model, variant, input, classes, 1)
	if err != nil {
		return 0, err
	}
	x := nn.New(append([]int{1}, input...)...)
	for i := range x.Data {
		x.Data[i] = float32(i%7) / 7
	}
	arena := nn.NewArena()
	var times []float64
	for i := range runs + 1 {
		arena.Reset()
		start := time.Now()
		if _, err := m.Net.Forward(x, &nn.Context{Arena: arena}, nil); err != nil {
			return 0, err
		}
		if i > 0 {
			times = append(times, float64(time.Since(start).Microseconds())/1000)
		}
	}
	slices.Sort(times)
	return times[len(times)/2], nil
}
