package session_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/convscope/convscope/deconv"
)

// Every method of the hello answers a projection of a unit and of the
// predicted class, with its kind of picture: heat maps (Grad-CAM,
// occlusion) over the input at 224 pixels, the others the input's size.
func TestEveryMethod(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	pred := c.run(f, `{"type":"run","model":"lenet5-untrained","sample":"00-coat.png"}`)
	var names []string
	for _, m := range c.hello.Methods {
		names = append(names, m.Name)
		if m.About == "" || m.Heat != (m.Name == "gradcam" || m.Name == "occlusion") || m.Long != (m.Name == "ig" || m.Name == "smoothgrad" || m.Name == "occlusion") {
			t.Errorf("method %+v", m)
		}
	}
	if !slices.Equal(names, deconv.MethodNames()) || len(names) != 7 {
		t.Fatalf("hello lists %v, want %v", names, deconv.MethodNames())
	}
	for _, name := range names {
		// The unit: c3's channel 5 at its strongest (Grad-CAM weighs c3).
		req := `{"type":"project","layer":"c3","channel":5,"method":"` + name + `"}`
		if name == "gradcam" {
			req = `{"type":"project","layer":"c3","method":"gradcam"}`
		}
		p, img := c.project(req)
		side := img.Bounds().Dx()
		switch {
		case p.Method != name || p.Layer != "c3":
			t.Errorf("%s: projection %+v", name, p)
		case p.Heat && side != 224, !p.Heat && side != 28:
			t.Errorf("%s: a %d-pixel picture (heat %v)", name, side, p.Heat)
		case name == "gradcam" && (p.Class != pred.Top || !slices.Equal(p.Shape, []int{10, 10})):
			t.Errorf("gradcam: class %d (predicted %d), shape %v (c3's maps are 10x10)", p.Class, pred.Top, p.Shape)
		case name == "occlusion" && !slices.Equal(p.Shape, []int{13, 13}):
			t.Errorf("occlusion: shape %v, want 13x13 (a 4-pixel square every 2 over 28)", p.Shape)
		case name != "gradcam" && (p.Class != -1 || !p.Strongest || p.Unit.Channel != 5):
			t.Errorf("%s: unit %+v", name, p)
		case (name == "deconvnet" || name == "guided") != (len(p.Notes) == 1 && strings.Contains(p.Notes[0], "Tanh is not a rectifier")):
			t.Errorf("%s: notes %q (LeNet-5's tanh is a choice under the deconvnet and guided backpropagation only)", name, p.Notes)
		}
		// The class.
		if name == "gradcam" {
			continue
		}
		p, _ = c.project(`{"type":"project","class":3,"method":"` + name + `"}`)
		if p.Class != 3 || p.Layer != "" || p.Index != -1 || p.Activation == 0 {
			t.Errorf("%s of class 3: %+v", name, p)
		}
	}
	p, _ := c.project(`{"type":"project","class":-1,"method":"occlusion"}`)
	if p.Class != pred.Top || p.Hi > 1 || p.Lo < 0 || p.Hi <= p.Lo {
		t.Errorf("occlusion of the predicted class: %+v (probabilities within [0,1])", p)
	}
	c.errorFor(`{"type":"project","class":10}`, "class must be in [0,10)")
	c.errorFor(`{"type":"project","class":-2}`, "class must be in [0,10)")
	c.errorFor(`{"type":"project","class":1,"channel":2}`, "takes no channel")
	c.errorFor(`{"type":"project","class":1,"layer":"c3"}`, "a layer only under gradcam")
	c.errorFor(`{"type":"project","class":1,"layer":"c9","method":"gradcam"}`, `no layer "c9"`)
	c.errorFor(`{"type":"project","layer":"c3","channel":0,"method":"lrp"}`, "unknown method")
	c.errorFor(`{"type":"run","sample":"00-coat.png","class":1}`, "a run takes")
}

// A long attribution works in its own goroutine and a new run stops it:
// nothing of the old run's attribution follows the new run's start.
func TestLongAttributionStopsForANewRun(t *testing.T) {
	f := newFixture(t)
	c := f.dial(t)
	c.run(f, `{"type":"run","model":"lenet5-untrained","sample":"00-coat.png"}`)
	for range 5 {
		c.send(`{"type":"project","class":-1,"method":"occlusion"}`)
		c.send(`{"type":"project","layer":"c1","channel":0,"method":"smoothgrad"}`)
	}
	c.send(`{"type":"run","model":"lenet5-untrained","sample":"00-coat.png"}`)
	started := false
	for {
		kind, b := c.next()
		if kind != websocket.TextMessage {
			continue
		}
		var head struct {
			Type string
			Run  int
		}
		if err := json.Unmarshal(b, &head); err != nil {
			t.Fatal(err)
		}
		switch {
		case head.Type == "error":
			t.Fatalf("error: %s", b)
		case head.Type == "start" && head.Run == 2:
			started = true
		case started && head.Run == 1:
			t.Fatalf("after run 2 started: %s", b)
		case head.Type == "prediction" && head.Run == 2:
			return
		}
	}
}
