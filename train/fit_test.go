package train

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/zoo"
)

// blobs makes n 1x28x28 noisy images with a bright 6x6 square in the left
// (label 0) or right (label 1) half at a random height: a task any convnet
// learns within an epoch, so a broken backward pass shows as chance accuracy.
func blobs(n int, seed uint64) *Tensors {
	r := rand.New(rand.NewPCG(seed, 1))
	x := nn.New(n, 1, 28, 28)
	labels := make([]int, n)
	for i := range labels {
		img := x.Data[i*784 : (i+1)*784]
		for j := range img {
			img[j] = float32(r.NormFloat64()) * 0.3
		}
		labels[i] = r.IntN(2)
		top, left := r.IntN(22), r.IntN(8)+labels[i]*14
		for y := top; y < top+6; y++ {
			for x := left; x < left+6; x++ {
				img[y*28+x] += 1.5
			}
		}
	}
	t, _ := NewTensors(x, labels)
	return t
}

func TestFitLearnsBlobs(t *testing.T) {
	m, err := zoo.Build("lenet5", nil, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	var events int
	res, err := Fit(context.Background(), m, blobs(512, 1), blobs(200, 2), Config{
		Epochs: 2, BatchSize: 16, LR: 0.02, Momentum: 0.9, Seed: 3,
		OnEvent: func(Event) { events++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	last := res[len(res)-1]
	t.Logf("epochs: %+v", res)
	if last.TestAccuracy < 0.95 {
		t.Errorf("test accuracy %.3f on blobs, want >= 0.95", last.TestAccuracy)
	}
	if events == 0 {
		t.Error("no progress events")
	}
	ev, err := Evaluate(m, blobs(200, 2), 64)
	if err != nil || ev.Accuracy != last.TestAccuracy {
		t.Errorf("Evaluate = %.3f (%v), Fit reported %.3f", ev.Accuracy, err, last.TestAccuracy)
	}
	var total int
	for _, row := range ev.Confusion {
		for _, v := range row {
			total += v
		}
	}
	if total != 200 {
		t.Errorf("confusion matrix counts %d samples, want 200", total)
	}
}

func TestFitRejectsWrongShape(t *testing.T) {
	m, _ := zoo.Build("lenet5", nil, 10, 1)
	x := nn.New(4, 3, 32, 32)
	src, _ := NewTensors(x, []int{0, 1, 2, 3})
	if _, err := Fit(context.Background(), m, src, src, Config{Epochs: 1, BatchSize: 2}); err == nil {
		t.Error("3x32x32 data accepted by a 1x28x28 model")
	}
}

func BenchmarkLeNetStep(b *testing.B) {
	m, _ := zoo.Build("lenet5", nil, 10, 1)
	data := blobs(128, 1)
	x, labels := batch(data, data.order())
	r, err := newRun(m, data, Config{Epochs: 1, BatchSize: 128, LR: 0.01, Momentum: 0.9})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := r.update(x, labels, stepRand(1, i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "img/s")
}
