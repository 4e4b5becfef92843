package session_test

import (
	"math"
	"testing"

	"github.com/convscope/convscope/web/session"
)

// An arith request answers how a unit of the latest run was computed: the
// numbers agree with the run's own maps, a large sum lists its largest
// terms, and a request about nothing is refused.
func TestArith(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	c.errorFor(`{"type":"arith","layer":"c1","channel":0}`, "run a picture first")
	c.run(f, `{"type":"run","model":"lenet5-untrained","sample":"00-coat.png"}`)
	var a session.Arith
	c.send(`{"type":"arith","run":1,"layer":"c3","channel":4,"y":3,"x":5}`)
	c.json("arith", &a)
	if a.Run != 1 || a.Layer != "c3" || a.Type != "arith" || a.Unit.Type != "Conv2d" || a.Kind != "weighted" || len(a.Terms) != 150 || a.Omitted != 0 {
		t.Fatalf("arith = run %d, %s %s %s, %d terms", a.Run, a.Layer, a.Unit.Type, a.Kind, len(a.Terms))
	}
	if d := math.Abs(a.Result - float64(a.Engine)); d > 1e-4 {
		t.Errorf("worked out %g, the engine %g", a.Result, a.Engine)
	}
	c.send(`{"type":"arith","layer":"f6","channel":3}`)
	c.json("arith", &a)
	if len(a.Terms) != 120 || a.Unit.Type != "Linear" {
		t.Errorf("f6: %d terms of %s", len(a.Terms), a.Unit.Type)
	}
	c.send(`{"type":"arith","layer":"s2","channel":1,"y":4,"x":4}`)
	c.json("arith", &a)
	if a.Kind != "average" || len(a.Terms) != 4 {
		t.Errorf("s2: %s of %d", a.Kind, len(a.Terms))
	}
	c.errorFor(`{"type":"arith","layer":"c3"}`, `needs "channel"`)
	c.errorFor(`{"type":"arith","layer":"c3","channel":99,"y":0,"x":0}`, "outside")
	c.errorFor(`{"type":"arith","layer":"c3","channel":0,"method":"gradient"}`, "takes run, layer, channel, y and x only")
	c.errorFor(`{"type":"arith","run":7,"layer":"c3","channel":0}`, "run 7 is gone")
}
