package learn

import (
	"io/fs"
	"math"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/convscope/convscope/static"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/web/samples"
)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(static.FS, "samples")
	if err != nil {
		t.Fatal(err)
	}
	return New(cat, samples.New(sub))
}

// get serves path in language lang (through the i18n middleware, as the
// router does).
func get(t *testing.T, h *Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	i18n.Middleware(h.Routes()).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	if rec.Code != 200 {
		t.Fatalf("%s: %d %s", path, rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

// The index lists the ten lessons in the seed's order, in either language,
// linking the written ones.
func TestIndexListsTheTenLessons(t *testing.T) {
	h := newHandler(t)
	for _, lang := range i18n.Langs {
		html := get(t, h, "/?lang="+string(lang))
		if n := strings.Count(html, `data-testid="lesson"`); n != 10 {
			t.Errorf("%s: %d lessons", lang, n)
		}
		last := 0
		for _, l := range Lessons {
			title := i18n.Message(lang, l.TitleKey())
			if title == "" || i18n.Message(lang, l.SummaryKey()) == "" {
				t.Errorf("%s: lesson %s has no title or summary", lang, l.Slug)
			}
			i := strings.Index(html, `data-lesson="`+l.Slug+`"`)
			if i < last {
				t.Errorf("%s: lesson %s out of order", lang, l.Slug)
			}
			last = i
			if l.Ready != strings.Contains(html, `href="/learn/`+l.Slug+`?lang=`+string(lang)+`"`) {
				t.Errorf("%s: lesson %s linked: %v, written: %v", lang, l.Slug, !l.Ready, l.Ready)
			}
		}
		if !strings.Contains(html, `<html lang="`+string(lang)+`"`) {
			t.Errorf("%s: the page does not say its language", lang)
		}
	}
}

var (
	convResult = regexp.MustCompile(`data-testid="lesson-conv-result">= ([-0-9.e+]+)<`)
	convEngine = regexp.MustCompile(`data-testid="lesson-conv-engine">[^<]*?: ([-0-9.e+]+)[.] `)
)

// The first lesson, on every sample picture and map in both languages:
// the worked-out convolution equals the engine's value for the unit, and
// the receptive fields grow from c1's 5x5 to the whole picture.
func TestBasicsNumbersAgreeWithTheEngine(t *testing.T) {
	h := newHandler(t)
	for i, sample := range []string{"", "08-sneaker.png"} {
		for _, lang := range i18n.Langs {
			html := get(t, h, "/basics?lang="+string(lang)+"&map="+strconv.Itoa(2*i+1)+"&sample="+sample)
			r, e := convResult.FindStringSubmatch(html), convEngine.FindStringSubmatch(html)
			if r == nil || e == nil {
				t.Fatalf("%s: no worked-out sum or engine value in the page", lang)
			}
			a, _ := strconv.ParseFloat(r[1], 64)
			b, _ := strconv.ParseFloat(e[1], 64)
			if math.Abs(a-b) > 0.01*math.Max(1, math.Abs(b)) {
				t.Errorf("%s: worked out %s, the engine %s", lang, r[1], e[1])
			}
			for _, want := range []string{i18n.Message(lang, "basics.conv.h"), i18n.Message(lang, "basics.rf.whole"), ">5×5<", ">14×14<"} {
				if !strings.Contains(html, want) {
					t.Errorf("%s: the lesson lacks %q", lang, want)
				}
			}
		}
	}
	v, err := h.basicsView("08-sneaker.png", "2")
	if err != nil {
		t.Fatal(err)
	}
	if v.Sample != "08-sneaker.png" || v.Map != 2 || len(v.Conv.Terms) != 25 || v.Pool.Kind != "average" || len(v.Pool.Terms) != 4 {
		t.Errorf("view: sample %s map %d, %d conv terms, pool %s of %d", v.Sample, v.Map, len(v.Conv.Terms), v.Pool.Kind, len(v.Pool.Terms))
	}
	for i := 1; i < len(v.RF); i++ {
		if v.RF[i].RF < v.RF[i-1].RF || !v.RF[i].Box.Union(v.RF[i-1].Box).Eq(v.RF[i].Box) {
			t.Errorf("%s's field %v does not hold %s's %v", v.RF[i].Name, v.RF[i].Box, v.RF[i-1].Name, v.RF[i-1].Box)
		}
	}
	// A sample that is not in the gallery (a path, say) falls back to the first.
	if v, _ := h.basicsView("../../etc/passwd", "9"); v.Sample != v.Samples[0].File || v.Map != 0 {
		t.Errorf("a bad sample or map was taken: %s, %d", v.Sample, v.Map)
	}
}

// The MobileNet lesson's cost figures, counted from the networks the zoo
// builds, equal the paper's Tables 6 and 7 to the paper's precision (a
// million multiply-adds, a tenth of a million parameters; the paper
// rounds 290.7 M down, so a count may sit up to 1 M away).
func TestMobileNetCostsMatchThePaper(t *testing.T) {
	if raceDetector {
		t.Skip("builds large networks: ten times slower under -race")
	}
	for _, table := range [][]PaperRow{Table6, Table7} {
		for _, p := range table {
			c, err := MobileNetCost(p.Alpha, p.Side)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(float64(c.MACs)/1e6 - p.MACs); d > 1 {
				t.Errorf("%g MobileNet-%d: %.1f M multiply-adds, the paper %g M", p.Alpha, p.Side, float64(c.MACs)/1e6, p.MACs)
			}
			if d := math.Abs(float64(c.Params)/1e6 - p.Params); d > 0.05 {
				t.Errorf("%g MobileNet-%d: %.2f M parameters, the paper %g M", p.Alpha, p.Side, float64(c.Params)/1e6, p.Params)
			}
		}
	}
	if _, err := MobileNetCost(0.6, 224); err == nil {
		t.Error("a width the paper does not list was counted")
	}
}

// The MobileNet lesson in both languages: the separable block's costs add
// up (depthwise + pointwise, against K·K·M·N·F²), the depthwise unit reads
// one channel's 3x3 window, and the reader's multipliers pick a row.
func TestMobileNetLesson(t *testing.T) {
	if raceDetector {
		t.Skip("builds large networks: ten times slower under -race")
	}
	h := newHandler(t)
	for _, lang := range i18n.Langs {
		html := get(t, h, "/mobilenet?lang="+string(lang)+"&alpha=1&side=160&sample=05-coat.png")
		for _, want := range []string{i18n.Message(lang, "mobilenet.sep.h"), `data-testid="table6"`, `data-testid="table7"`,
			`<tr aria-current data-testid="cost-row" data-alpha="1" data-side="160"`} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: the lesson lacks %q", lang, want)
			}
		}
		if n := strings.Count(html, `<tr aria-current`); n != 1 {
			t.Errorf("%s: %d rows marked as the reader's choice", lang, n)
		}
	}
	v, err := h.mobilenetView("05-coat.png", "0.5", "160")
	if err != nil {
		t.Fatal(err)
	}
	if v.Alpha != 0.5 || v.Side != 160 || v.Chosen.MACs >= v.Base.MACs/4 {
		t.Errorf("multipliers %g, %d: %d against %d", v.Alpha, v.Side, v.Chosen.MACs, v.Base.MACs)
	}
	if v.Standard != int64(v.K*v.K*v.M*v.N*v.F*v.F) || v.Depthwise != int64(v.K*v.K*v.M*v.F*v.F) || v.Pointwise != int64(v.M*v.N*v.F*v.F) {
		t.Errorf("block costs %d, %d, %d", v.Standard, v.Depthwise, v.Pointwise)
	}
	if len(v.DW.Terms) != 9 || math.Abs(v.DW.Result-float64(v.DW.Engine)) > 1e-4 || math.Abs(v.PW.Result-float64(v.PW.Engine)) > 1e-3 {
		t.Errorf("depthwise: %d terms, %g against %g; pointwise %g against %g", len(v.DW.Terms), v.DW.Result, v.DW.Engine, v.PW.Result, v.PW.Engine)
	}
	for _, tm := range v.DW.Terms {
		if tm.Channel != 0 {
			t.Errorf("the depthwise unit of map 0 reads channel %d", tm.Channel)
		}
	}
	if len(v.PW.Terms)+v.PW.Omitted != v.M {
		t.Errorf("the pointwise unit reads %d inputs, want %d", len(v.PW.Terms)+v.PW.Omitted, v.M)
	}
}

// The VGG lesson's stacks, as the engine's summary counts them, against
// the closed forms: n k×k layers of C channels see n(k−1)+1 pixels and
// hold n(k²C² + C) parameters and n k²C²H² multiply-adds.
func TestVGGStacks(t *testing.T) {
	for _, c := range [][4]int{{2, 3, 64, 56}, {1, 5, 64, 56}, {3, 3, 16, 7}, {1, 7, 512, 224}} {
		n, k, ch, side := c[0], c[1], c[2], c[3]
		s, err := StackCost(n, k, ch, side)
		if err != nil {
			t.Fatal(err)
		}
		wantP := int64(n * (k*k*ch*ch + ch))
		wantM := int64(n*k*k*ch*ch) * int64(side*side)
		if s.RF != n*(k-1)+1 || s.Params != wantP || s.MACs != wantM {
			t.Errorf("%d × %dx%d, C %d, H %d: field %d, %d parameters, %d MACs; want %d, %d, %d", n, k, k, ch, side, s.RF, s.Params, s.MACs, n*(k-1)+1, wantP, wantM)
		}
	}
	h := newHandler(t)
	for _, lang := range i18n.Langs {
		html := get(t, h, "/vgg?lang="+string(lang)+"&c=128&h=28")
		if n := strings.Count(html, `data-testid="stack-row"`); n != 4 || !strings.Contains(html, `data-n="2" data-k="3" data-rf="5"`) || !strings.Contains(html, i18n.Message(lang, "vgg.stack.h")) {
			t.Errorf("%s: %d stack rows", lang, n)
		}
	}
	v, err := h.vggView("", "9999", "-3")
	if err != nil {
		t.Fatal(err)
	}
	if v.C != vggMaxC || v.H != vggMinH || len(v.RF) != 2 || v.RF[1].RF-v.RF[0].RF != 2*v.RF[0].Jump || !v.RF[0].Box.In(v.RF[1].Box) {
		t.Errorf("C %d H %d, fields %+v", v.C, v.H, v.RF)
	}
}

// The ResNet lesson: each shown unit is relu(x + F(x)) as the engine
// computed it, option B costs more than option A, and the gradient at
// initialisation behaves as the page says: about the same size from end
// to end through the residual network, growing on its way back through
// the plain one with batch norm, vanishingly small without it.
func TestResNetLesson(t *testing.T) {
	if raceDetector {
		t.Skip("builds large networks: ten times slower under -race")
	}
	h := newHandler(t)
	v, err := h.resnetView(i18n.English, "12-dress.png")
	if err != nil {
		t.Fatal(err)
	}
	if v.Sample != "12-dress.png" || len(v.Units) != 3 {
		t.Fatalf("sample %s, %d units", v.Sample, len(v.Units))
	}
	for _, a := range v.Units {
		if d := math.Abs(math.Max(a.Sum, 0) - float64(a.Out)); d > 1e-5 {
			t.Errorf("unit (%d,%d): relu(%g + %g) = %g, the engine %g", a.Y, a.X, a.In, a.Body, math.Max(a.Sum, 0), a.Out)
		}
	}
	if len(v.Options) != 2 || v.Options[1].Params <= v.Options[0].Params || v.Options[1].MACs <= v.Options[0].MACs {
		t.Errorf("options %+v", v.Options)
	}
	if n := len(v.Residual.Norms); n != 55 || len(v.Plain.Norms) != n || len(v.Bare.Norms) != n {
		t.Fatalf("%d, %d, %d convolutions (ResNet-56 has 55)", n, len(v.Plain.Norms), len(v.Bare.Norms))
	}
	g := func(n []float64) float64 { return n[0] / n[len(n)-1] }
	if r := g(v.Residual.Norms); r < 1.0/3 || r > 3 {
		t.Errorf("residual: the gradient changes %g times from end to start", r)
	}
	if p := g(v.Plain.Norms); p < 10 {
		t.Errorf("plain with batch norm: the gradient changes only %g times", p)
	}
	for _, b := range v.Bare.Norms {
		if b > 1e-6 {
			t.Fatalf("plain without batch norm: a gradient of %g", b)
		}
	}
	for _, lang := range i18n.Langs {
		html := get(t, h, "/resnet?lang="+string(lang))
		if !strings.Contains(html, `data-testid="grad-factor"`) || strings.Count(html, `data-testid="addition"`) != 3 || !strings.Contains(html, "<svg") {
			t.Errorf("%s: the lesson lacks its parts", lang)
		}
	}
}

// The Inception module's counts: the paper's Table 1 gives inception (3a)
// 128 M operations and (3b) 304 M; the naive module against closed forms.
func TestInceptionCosts(t *testing.T) {
	inception3b := Module{In: 256, H: 28, C1: 128, C3r: 128, C3: 192, C5r: 32, C5: 96, PoolProj: 64}
	for _, c := range []struct {
		m    Module
		ops  float64
		outs int
	}{{Inception3a, 128, 256}, {inception3b, 304, 480}} {
		red, naive, err := c.m.Costs()
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(red.MACs)/1e6 - c.ops); d > 0.5 || red.Out != c.outs {
			t.Errorf("%+v: %.1f M multiply-adds and %d channels, the paper %g M and %d", c.m, float64(red.MACs)/1e6, red.Out, c.ops, c.outs)
		}
		m := c.m
		wantNaive := int64(m.H*m.H) * int64(m.In*m.C1+9*m.In*m.C3+25*m.In*m.C5)
		if naive.MACs != wantNaive || naive.Out != m.C1+m.C3+m.C5+m.In {
			t.Errorf("naive: %d MACs, %d channels; want %d, %d", naive.MACs, naive.Out, wantNaive, m.C1+m.C3+m.C5+m.In)
		}
	}
	h := newHandler(t)
	for _, lang := range i18n.Langs {
		html := get(t, h, "/googlenet?lang="+string(lang)+"&in=256&c5=96")
		if n := strings.Count(html, `data-testid="branch"`); n != 4 || !strings.Contains(html, `value="256"`) {
			t.Errorf("%s: %d branches drawn", lang, n)
		}
	}
	if v, err := h.googlenetView("", map[string][]string{"in": {"99999"}, "h": {"-1"}}); err != nil || v.Module.In != 1024 || v.Module.H != 1 {
		t.Errorf("out-of-range sizes: %+v, %v", v.Module, err)
	}
}

// The ConvNeXt lesson's counts: torchvision's stage depths, one norm and
// one activation per ConvNeXt block against three of each, a stem that
// reaches 56x56 for an eighth of ResNet's multiply-adds, the totals of
// the zoo's parameter test; and the trained model's 7x7 depthwise unit.
func TestConvNeXtLesson(t *testing.T) {
	if raceDetector {
		t.Skip("builds large networks: ten times slower under -race")
	}
	c, err := Compare()
	if err != nil {
		t.Fatal(err)
	}
	if stages(c.ResNetStages) != "3, 4, 6, 3" || stages(c.ConvNeXtStages) != "3, 3, 9, 3" {
		t.Errorf("stages %v and %v", c.ResNetStages, c.ConvNeXtStages)
	}
	if c.ResNetNorms != 3 || c.ResNetActs != 3 || c.ConvNeXtNorms != 1 || c.ConvNeXtActs != 1 {
		t.Errorf("norms and activations per block: %d, %d against %d, %d", c.ResNetNorms, c.ResNetActs, c.ConvNeXtNorms, c.ConvNeXtActs)
	}
	if c.ConvNeXtStem[0].Output != "96×56×56" || c.ResNetStem[1].Output != "64×56×56" || c.ConvNeXtStem[0].MACs*8 > c.ResNetStem[0].MACs {
		t.Errorf("stems %+v against %+v", c.ConvNeXtStem, c.ResNetStem)
	}
	if c.ResNetTotal.Params != 25557032 || c.ConvNeXtTotal.Params != 28589128 {
		t.Errorf("totals %d and %d", c.ResNetTotal.Params, c.ConvNeXtTotal.Params)
	}
	h := newHandler(t)
	v, err := h.convnextView("")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Depthwise.Terms) != 49 || math.Abs(v.Depthwise.Result-float64(v.Depthwise.Engine)) > 1e-4 {
		t.Errorf("7x7 depthwise: %d terms, %g against %g", len(v.Depthwise.Terms), v.Depthwise.Result, v.Depthwise.Engine)
	}
	for _, lang := range i18n.Langs {
		html := get(t, h, "/convnext?lang="+string(lang))
		if !strings.Contains(html, `data-testid="lesson-dw7"`) || !strings.Contains(html, i18n.Message(lang, "convnext.block.h")) {
			t.Errorf("%s: the lesson lacks its parts", lang)
		}
	}
}

// The LeNet lesson reads the 1998 connection table from the model (Table I
// of the paper: 60 connections, six maps reading three, nine reading
// four, one reading all six) and counts C3's and S2's parameters.
func TestLeNetLesson(t *testing.T) {
	h := newHandler(t)
	v, err := h.lenetView("")
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Table) != 16 {
		t.Fatalf("%d C3 maps", len(v.Table))
	}
	reads := map[int]int{}
	total := 0
	for _, row := range v.Table {
		n := 0
		for _, c := range row {
			if c {
				n++
			}
		}
		reads[n]++
		total += n
	}
	if total != 60 || reads[3] != 6 || reads[4] != 9 || reads[6] != 1 {
		t.Errorf("table: %d connections, %v", total, reads)
	}
	if !v.Table[0][0] || !v.Table[0][1] || !v.Table[0][2] || v.Table[0][3] {
		t.Errorf("C3 map 0 reads %v, the paper's {0, 1, 2}", v.Table[0])
	}
	params := map[string][2]int64{}
	for _, p := range v.Layers {
		params[p.Name] = [2]int64{p.Params1998, p.Today}
	}
	// C3: 60 kernels of 5x5 and 16 biases in 1998, 96 kernels and 16 today;
	// S2: a coefficient and a bias per map, against none.
	if params["c3"] != [2]int64{60*25 + 16, 96*25 + 16} || params["s2"] != [2]int64{12, 0} {
		t.Errorf("parameters: c3 %v, s2 %v", params["c3"], params["s2"])
	}
	if len(v.Norms) != 16 || len(v.Norms[0]) != 6 || v.Max <= 0 {
		t.Errorf("norms %d x %d", len(v.Norms), len(v.Norms[0]))
	}
	for _, lang := range i18n.Langs {
		html := get(t, h, "/lenet?lang="+string(lang))
		if strings.Count(html, `data-connected="true"`) != 60 || !strings.Contains(html, `data-testid="c3-norms"`) {
			t.Errorf("%s: the lesson lacks its table", lang)
		}
	}
}

// The evaluation lesson lists every embedded trained model with the
// accuracy of weights/index.json, and times each one when asked; a second
// measurement while one runs is refused, not queued.
func TestEvaluationLesson(t *testing.T) {
	if raceDetector {
		t.Skip("builds large networks: ten times slower under -race")
	}
	h := newHandler(t)
	cat, _ := catalog.Embedded()
	var trained []catalog.Entry
	for _, e := range cat.Entries() {
		if e.Trained {
			trained = append(trained, e)
		}
	}
	v, err := h.evaluationView(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Results) != len(trained) || v.Measured {
		t.Fatalf("%d rows for %d trained models", len(v.Results), len(trained))
	}
	for i, r := range v.Results {
		if r.Name != trained[i].Name || r.TestAccuracy != trained[i].TestAccuracy || r.Params <= 0 || r.MACs <= 0 || r.Millis != 0 {
			t.Errorf("row %d: %+v", i, r)
		}
	}
	v, err = h.evaluationView(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Results {
		if r.Millis <= 0 {
			t.Errorf("%s: not timed", r.Name)
		}
	}
	measuring.Lock()
	busy, err := h.evaluationView(true)
	measuring.Unlock()
	if err != nil || !busy.Busy || busy.Measured {
		t.Errorf("a measurement during another: busy %v, measured %v, %v", busy.Busy, busy.Measured, err)
	}
	for _, lang := range i18n.Langs {
		html := get(t, h, "/evaluation?lang="+string(lang)+"&measure=1")
		if strings.Count(html, `data-testid="evaluation-ms"`) != len(trained) {
			t.Errorf("%s: %d timed rows", lang, strings.Count(html, `data-testid="evaluation-ms"`))
		}
	}
}

// The ZFNet lesson's steps end in the attribution core's own deconvnet
// projection, and an unpooling step leaves at most one value per pooling
// window of each channel (the switches).
func TestZFNetLessonSteps(t *testing.T) {
	h := newHandler(t)
	for _, layer := range []string{"features.4", "features.8"} {
		v, err := h.zfnetView("05-coat.png", layer, "")
		if err != nil {
			t.Fatal(err)
		}
		if v.Check > 1e-6 || v.Value <= 0 {
			t.Errorf("%s: the steps end %g from deconv's projection (activation %g)", layer, v.Check, v.Value)
		}
		last := v.Steps[len(v.Steps)-1]
		if last.Layer != "features.0" || last.Shape != "1×28×28" || v.Steps[0].Type != "ReLU" {
			t.Errorf("%s: steps from %s to %s (%s)", layer, v.Steps[0].Layer, last.Layer, last.Shape)
		}
		for i, s := range v.Steps {
			if s.Type != "MaxPool2d" || i == 0 {
				continue
			}
			// ZFNet-small's pools are 3x3 stride 2: windows overlap, so a
			// value may land on a shared switch; never more values than
			// the signal above had.
			if s.NonZero > v.Steps[i-1].NonZero {
				t.Errorf("%s: unpooling at %s made %d values from %d", layer, s.Layer, s.NonZero, v.Steps[i-1].NonZero)
			}
		}
	}
	for _, lang := range i18n.Langs {
		html := get(t, h, "/zfnet?lang="+string(lang)+"&layer=features.4&map=2")
		if !strings.Contains(html, `data-testid="deconv-steps"`) || strings.Count(html, `data-testid="deconv-step"`) != 6 {
			t.Errorf("%s: %d steps", lang, strings.Count(html, `data-testid="deconv-step"`))
		}
	}
}

// The AlexNet lesson: shares of the first layer's units, an LRN unit that
// agrees with the engine, two overlapping pool windows sharing a column
// (3 of 9 inputs), and five dropout masks each dropping about half of the
// non-zero inputs.
func TestAlexNetLesson(t *testing.T) {
	h := newHandler(t)
	v, err := h.alexnetView("06-shirt.png")
	if err != nil {
		t.Fatal(err)
	}
	if v.Act.Units != 32*28*28 || v.Act.ReLUZero <= 0 || v.Act.ReLUZero >= 1 || v.Act.TanhSlope <= 0 || v.Act.TanhSlope > 1 {
		t.Errorf("activations %+v", v.Act)
	}
	if math.Abs(v.LRN.Result-float64(v.LRN.Engine)) > 1e-5 || len(v.LRN.Terms) != 5 {
		t.Errorf("LRN: %g against the engine's %g, %d channels", v.LRN.Result, v.LRN.Engine, len(v.LRN.Terms))
	}
	if v.Shared != 3 || v.Pool.Kind != "max" || v.Next.X != v.Pool.X+1 {
		t.Errorf("overlapping windows share %d inputs", v.Shared)
	}
	if len(v.Dropout) != 5 {
		t.Fatalf("%d dropout passes", len(v.Dropout))
	}
	same := true
	for _, r := range v.Dropout {
		if f := float64(r.Dropped) / float64(r.NonZero); r.NonZero == 0 || f < 0.3 || f > 0.7 {
			t.Errorf("mask %d dropped %d of %d", r.Seed, r.Dropped, r.NonZero)
		}
		same = same && r.Dropped == v.Dropout[0].Dropped && r.Prob == v.Dropout[0].Prob
	}
	if same {
		t.Error("five masks gave the same pass")
	}
	for _, lang := range i18n.Langs {
		html := get(t, h, "/alexnet?lang="+string(lang))
		if strings.Count(html, `data-testid="dropout-run"`) != 5 || strings.Contains(html, "%!") {
			t.Errorf("%s: the lesson is broken", lang)
		}
	}
}

// Every lesson opens in both languages with no formatting slip and no
// link or picture the template refused.
func TestEveryLessonRenders(t *testing.T) {
	if raceDetector {
		t.Skip("builds large networks: ten times slower under -race")
	}
	h := newHandler(t)
	for _, l := range Lessons {
		if !l.Ready {
			t.Errorf("lesson %s is not written", l.Slug)
			continue
		}
		for _, lang := range i18n.Langs {
			html := get(t, h, "/"+l.Slug+"?lang="+string(lang))
			for _, bad := range []string{"%!", "TemplFailedSanitization", "lesson." + l.Slug + ".title"} {
				if strings.Contains(html, bad) {
					t.Errorf("%s in %s: the page holds %q", l.Slug, lang, bad)
				}
			}
			if !strings.Contains(html, "<h1>"+i18n.Message(lang, l.TitleKey())+"</h1>") {
				t.Errorf("%s in %s: no title", l.Slug, lang)
			}
		}
	}
}
