package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/convscope/convscope/nn"
	"github.com/convscope/convscope/nn/kernel"
	"github.com/convscope/convscope/train"
	"github.com/convscope/convscope/zoo"
)

// benchJob is one figure of `convscope bench`, named as
// ../shared/tools/torch_anchor.py names its PyTorch counterpart.
type benchJob struct {
	key string
	run func() (float64, error)
	// extra jobs have no anchor counterpart; they run only when -only names them.
	extra bool
}

// benchJobs are torch_anchor.py's keys, measured the same way: SGEMM best of
// 3 windows of 20 products; training images/s best of 3 windows of SGD
// steps (momentum 0.9) at batch 128 on random data; inference the fastest
// of several single-image eval passes at 3x224x224, in milliseconds, each
// pass recycling the previous one's tensors (an nn.Arena) as a web session
// does from one picture to the next, fused as `convscope infer` runs them;
// infer_kept_ms_224 (no anchor key) is the explorer's pass, which keeps
// every layer's maps.
func benchJobs() []benchJob {
	var jobs []benchJob
	for _, s := range [][3]int{{64, 1024, 576}, {128, 256, 1152}, {256, 196, 2304}, {512, 512, 512}, {16, 50176, 27}} {
		jobs = append(jobs, benchJob{key: fmt.Sprintf("sgemm_gflops.%dx%dx%d", s[0], s[1], s[2]),
			run: func() (float64, error) { return kernel.BenchSgemm(s[0], s[1], s[2], 20, 3), nil }})
	}
	for _, t := range []struct {
		key, model string
		input      []int
		steps      int
	}{
		{"train_img_per_s.lenet5_1x28x28", "lenet5", []int{1, 28, 28}, 100},
		// torch_anchor's ResNet-20 projects its shortcuts (option B).
		{"train_img_per_s.resnet20_1x28x28", "resnet20_b", []int{1, 28, 28}, 10},
		{"train_img_per_s.resnet20_3x32x32", "resnet20_b", []int{3, 32, 32}, 10},
	} {
		jobs = append(jobs, benchJob{key: t.key, run: func() (float64, error) { return trainImagesPerSecond(t.model, t.input, t.steps) }})
	}
	for _, name := range []string{"alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "mobilenet_v2", "convnext_tiny"} {
		jobs = append(jobs, benchJob{key: "infer_ms_224." + name, run: func() (float64, error) { return inferMillis(name, 10) }})
	}
	for _, name := range []string{"alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "mobilenet_v2", "convnext_tiny"} {
		jobs = append(jobs, benchJob{key: "infer_kept_ms_224." + name, run: func() (float64, error) { return inferKeptMillis(name, 10) }, extra: true})
	}
	// The small forms of docs/RESULTS.md, at batch 128 on 1x28x28, for
	// finding what slows a recipe down (with -cpuprofile).
	// tools/bench/twins.py times PyTorch twins of the same small forms
	// under the same keys.
	for _, name := range resultsModels {
		jobs = append(jobs, benchJob{key: "train_small_img_per_s." + name,
			run: func() (float64, error) { return trainImagesPerSecond(name, []int{1, 28, 28}, 3) }, extra: true})
	}
	for _, name := range resultsModels {
		jobs = append(jobs, benchJob{key: "infer_small_img_per_s." + name,
			run: func() (float64, error) { return inferImagesPerSecond(name, []int{1, 28, 28}, 64, 5) }, extra: true})
	}
	return jobs
}

func bench(ctx context.Context, args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object, as torch_anchor.py --json")
	only := fs.String("only", "", "comma-separated key prefixes to run (e.g. sgemm,infer_ms_224.resnet18; train_small_img_per_s and infer_small_img_per_s run only when named)")
	repeat := fs.Int("repeat", 1, "run each figure this many times and keep the best (a noisy machine; longer profiles)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured work to this file (go tool pprof; samples carry layer and pass labels: pprof -tags)")
	memProfile := fs.String("memprofile", "", "write the allocations of the run to this file when it ends (go tool pprof -sample_index=alloc_space, or inuse_space; what a training step holds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *memProfile != "" {
		defer func() {
			if werr := writeAllocs(*memProfile); werr != nil && err == nil {
				err = werr
			}
		}()
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	out := map[string]float64{}
	var order []string
	for _, j := range benchJobs() {
		if (*only == "" && j.extra) || (*only != "" && !hasPrefix(j.key, strings.Split(*only, ","))) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// Each figure starts from a collected heap, as each of the anchor's
		// does (Python frees a model as soon as it is dropped): VGG-16's
		// 550 MB left to the collector made the next model's passes share
		// the cores with it (GoogLeNet 18 ms alone, 45 ms after VGG-16).
		runtime.GC()
		v, err := bestOf(j, *repeat)
		if err != nil {
			return fmt.Errorf("%s: %w", j.key, err)
		}
		out[j.key] = float64(int64(v*100+0.5)) / 100
		order = append(order, j.key)
		if !*asJSON {
			fmt.Fprintf(stdout, "%-40s %10.2f\n", j.key, out[j.key])
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", " ")
		return enc.Encode(out)
	}
	return nil
}

// bestOf runs a job n times and keeps its best figure: the least
// milliseconds, or the most GFLOPS or images/s.
func bestOf(j benchJob, n int) (float64, error) {
	lower := strings.HasPrefix(j.key, "infer_ms")
	var best float64
	for i := 0; i < max(n, 1); i++ {
		v, err := j.run()
		if err != nil {
			return 0, err
		}
		if i == 0 || lower && v < best || !lower && v > best {
			best = v
		}
	}
	return best, nil
}

func hasPrefix(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, strings.TrimSpace(p)) {
			return true
		}
	}
	return false
}

// trainImagesPerSecond is the best of 3 windows of `steps` SGD steps at
// batch 128 on random data, after 3 untimed steps: torch_anchor.py's
// train_ips, with its step counts (100 for LeNet-5, 10 for ResNet-20).
func trainImagesPerSecond(model string, input []int, steps int) (float64, error) {
	m, err := zoo.Build(model, input, 10, 0)
	if err != nil {
		return 0, err
	}
	st, err := train.NewStepper(m, train.Config{BatchSize: 128, LR: 0.01, Momentum: 0.9})
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(0, 1))
	x := nn.New(append([]int{128}, input...)...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	labels := make([]int, 128)
	for i := range labels {
		labels[i] = r.IntN(10)
	}
	for i := 0; i < 3; i++ {
		if _, err := st.Step(x, labels); err != nil {
			return 0, err
		}
	}
	best := 0.0
	for w := 0; w < 3; w++ {
		t := time.Now()
		for i := 0; i < steps; i++ {
			if _, err := st.Step(x, labels); err != nil {
				return 0, err
			}
		}
		best = max(best, float64(128*steps)/time.Since(t).Seconds())
	}
	return best, nil
}

// inferMillis is the fastest of reps single-image eval passes at 3x224x224
// after one untimed pass (torch_anchor.py's infer_ms, reps 10),
// recycling tensors from pass to pass as web/session does, fused as
// `convscope infer` runs them (Context.Fuse: only the logits are read).
// The explorer's pass, which keeps every layer's maps, is inferKeptMillis.
func inferMillis(model string, reps int) (float64, error) {
	return inferPassMillis(model, reps, func(a *nn.Arena) *nn.Context { return &nn.Context{Arena: a, Fuse: true, InPlace: true} })
}

// inferKeptMillis is inferMillis for the explorer's pass: every layer's
// output kept, nothing fused.
func inferKeptMillis(model string, reps int) (float64, error) {
	return inferPassMillis(model, reps, func(a *nn.Arena) *nn.Context { return &nn.Context{Arena: a} })
}

// inferPassMillis is the fastest of reps passes under the context ctx
// gives.
func inferPassMillis(model string, reps int, ctx func(*nn.Arena) *nn.Context) (float64, error) {
	m, err := zoo.Build(model, []int{3, 224, 224}, 1000, 0)
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(0, 2))
	x := nn.New(1, 3, 224, 224)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	arena := nn.NewArena()
	if _, err := m.Net.Forward(x, ctx(arena), nil); err != nil {
		return 0, err
	}
	best := time.Duration(1 << 62)
	for i := 0; i < reps; i++ {
		arena.Reset()
		t := time.Now()
		if _, err := m.Net.Forward(x, ctx(arena), nil); err != nil {
			return 0, err
		}
		best = min(best, time.Since(t))
	}
	return float64(best) / 1e6, nil
}

// inferImagesPerSecond is the best of 3 windows of `passes` eval-mode
// forward passes at batch bs on random data, after one untimed pass
// (twins.py's infer_ips): the batch inference of the top-9 scans and the
// evaluation.
func inferImagesPerSecond(model string, input []int, bs, passes int) (float64, error) {
	m, err := zoo.Build(model, input, 10, 0)
	if err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(0, 3))
	x := nn.New(append([]int{bs}, input...)...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	slicer := &nn.Slicer{}
	out := nn.NewArena()
	pass := func() error {
		out.Reset()
		_, err := slicer.Logits(m.Net, x, out) // as train.Evaluate's
		return err
	}
	if err := pass(); err != nil {
		return 0, err
	}
	best := 0.0
	for w := 0; w < 3; w++ {
		t := time.Now()
		for i := 0; i < passes; i++ {
			if err := pass(); err != nil {
				return 0, err
			}
		}
		best = max(best, float64(bs*passes)/time.Since(t).Seconds())
	}
	return best, nil
}

// resultsModels are the small forms that tools/results/train_all.sh trains.
var resultsModels = []string{"lenet5", "alexnet_small", "zfnet_small", "vgg_small", "googlenet_small",
	"resnet20", "resnet32", "mobilenet_v1_small", "mobilenet_v1_small_050", "mobilenet_v2_small", "convnext_mini"}

// writeAllocs writes the allocations profile (runtime/pprof's "allocs":
// every sampled allocation's stack, and what of it is still in use).
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// startCPUProfile starts a CPU profile into path, with the layers' pprof
// labels on, and returns what stops it; an empty path profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	nn.ProfileLayers(true)
	return func() {
		nn.ProfileLayers(false)
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
