package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/convscope/convscope/data"
)

const zfSneaker = "../../static/samples/fashion-mnist/08-sneaker.png"

func TestCorrespondenceJSONAndTable(t *testing.T) {
	args := []string{"-weights", zfWeights, "-image", zfBoot, "-image", zfCoat, "-image", zfSneaker,
		"-box", "4,4,12,12", "-box", "10,6,18,14", "-box", "16,16,24,24", "-layers", "c3,f6.act", "-trials", "3", "-seed", "5"}
	out, err := run(t, "correspondence", append(args, "-json")...)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Layers []struct {
			Layer            string
			Part             *int
			Random           float64
			RandomStd        float64 `json:"randomStd"`
			Pairs, Features  int
			PartNormalized   float64 `json:"partNormalized"`
			RandomNormalized float64 `json:"randomNormalized"`
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// c3: 16 maps of 10x10 after LeNet's first pooling; f6: 84 units.
	want := map[string]int{"c3": 1600, "f6.act": 84}
	if len(r.Layers) != 2 {
		t.Fatalf("%d rows in %s", len(r.Layers), out)
	}
	for i, name := range []string{"c3", "f6.act"} {
		row := r.Layers[i]
		if row.Layer != name || row.Part == nil || row.Pairs != 3 || row.Features != want[name] {
			t.Errorf("row %d: %+v, want %s with 3 pairs and %d features", i, row, name, want[name])
			continue
		}
		if *row.Part < 0 || *row.Part > 3*want[name] || row.Random <= 0 || row.Random > float64(3*want[name]) {
			t.Errorf("%s: part %d, random %v out of 0..%d", name, *row.Part, row.Random, 3*want[name])
		}
	}
	table, err := run(t, "correspondence", args...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "part Δ") || !strings.HasPrefix(lines[2], "c3 ") || !strings.HasPrefix(lines[3], "f6.act ") {
		t.Errorf("table:\n%s", table)
	}
}

func TestCorrespondenceRefuses(t *testing.T) {
	two := []string{"-weights", zfWeights, "-image", zfBoot, "-image", zfCoat}
	cases := []struct {
		args []string
		want string
	}{
		{append(two, "-box", "0,0,4,4"), "1 -box for 2 -image"},
		{append(two, "-box", "0,0,4,4", "-box", "4,4,2,8"), "x1 > x0"},
		{append(two, "-box", "0,0,4,4", "-box", "0,0,4"), "x0,y0,x1,y1"},
		{append(two, "-box", "0,0,4,4", "-box", "20,20,30,30"), "box 1"},
		{append(two, "-box", "0,0,4,4", "-box", "0,0,4,4", "-layers", "nope"), `"nope"`},
		{append(two, "-box", "0,0,4,4", "-box", "0,0,4,4", "-trials", "0"), "-trials 0"},
		{[]string{"-weights", zfWeights, "-image", zfBoot, "-box", "0,0,4,4"}, "2 to 20 -image"},
	}
	for _, c := range cases {
		if _, err := run(t, "correspondence", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: want an error with %q, got %v", c.args, c.want, err)
		}
	}
}

// -data -class takes the first test pictures of the class, one box for
// all, and says which it took.
func TestCorrespondenceOfClass(t *testing.T) {
	if _, err := data.Find("fashion-mnist", ""); err != nil {
		t.Skip("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist):", err)
	}
	out, err := run(t, "correspondence", "-weights", "../../weights/lenet5-fashion-mnist.safetensors", "-data", "fashion-mnist",
		"-class", "7", "-n", "3", "-box", "2,14,12,24", "-layers", "c3", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Indices []int
		Layers  []struct {
			Layer string
			Pairs int
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	set, err := data.OpenImages("fashion-mnist", "", false)
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for i := 0; len(want) < 3; i++ {
		if set.Labels[i] == 7 {
			want = append(want, i)
		}
	}
	if fmt.Sprint(r.Indices) != fmt.Sprint(want) || len(r.Layers) != 1 || r.Layers[0].Pairs != 3 {
		t.Errorf("indices %v (want %v), layers %+v", r.Indices, want, r.Layers)
	}
	if _, err := run(t, "correspondence", "-weights", "../../weights/lenet5-fashion-mnist.safetensors", "-data", "fashion-mnist",
		"-class", "7", "-box", "2,14,12,24", "-box", "2,14,12,24"); err == nil {
		t.Error("two boxes for five pictures were taken")
	}
}
