package summary

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/convscope/convscope/onnx"
	"github.com/convscope/convscope/web/catalog"
	"github.com/convscope/convscope/zoo"
)

func TestPageIsATorchinfoTable(t *testing.T) {
	cat, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cat.Open("")
	if err != nil {
		t.Fatal(err)
	}
	m.Command = "convscope train -model lenet5"
	var b strings.Builder
	if err := Page(m.Entry, m.Summary).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, id := range []string{"model-title", "model-facts", "model-command", "summary-table", "summary-row", "summary-totals"} {
		if !strings.Contains(html, `data-testid="`+id+`"`) {
			t.Errorf("page has no data-testid=%q", id)
		}
	}
	if n := strings.Count(html, `data-testid="summary-row"`); n != len(m.Summary.Layers) {
		t.Errorf("%d rows, want one per layer (%d)", n, len(m.Summary.Layers))
	}
	// LeNet-5's figures, as torchinfo prints them.
	for _, want := range []string{
		`data-layer="c1"`, "[1, 6, 28, 28]", "156", "117,600", "[1, 16, 10, 10]", "2,416", "240,000",
		"14×14", "[1, 10]", "Total params: 61,706", "Total mult-adds (M): 0.42", "untrained",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// The index lists the trained models and then the whole zoo, each row
// saying whether its weights are trained.
func TestIndexListsTheZoo(t *testing.T) {
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	cat.AddZoo()
	var b strings.Builder
	if err := Index(cat.Entries()).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{`data-model="lenet5-fashion-mnist" data-trained="true"`, `data-model="vgg16" data-trained="false"`,
		`data-model="convnext_tiny" data-trained="false"`, "untrained (random initialisation)", "trained, 91.29% test accuracy"} {
		if !strings.Contains(html, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	if strings.Contains(html, `data-model="lenet5" `) {
		t.Error("the zoo's lenet5 is listed beside its trained checkpoint")
	}
	// A big model's summary is computed without keeping its weights.
	e, s, err := cat.Summary("resnet50")
	if err != nil || e.Trained || s.Params != 25557032 {
		t.Errorf("resnet50: trained %v, %d params, %v", e.Trained, s.Params, err)
	}
}

// A CIFAR-shaped untrained network has no dataset, and says so.
func TestPageSaysWhenThereIsNoDataset(t *testing.T) {
	cat, err := catalog.Untrained("resnet20_b", 1)
	if err != nil {
		t.Fatal(err)
	}
	e, s, err := cat.Summary("")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Page(e, s).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if want := `data-testid="model-dataset">none (untrained, no dataset)<`; !strings.Contains(b.String(), want) {
		t.Errorf("page lacks %q", want)
	}
}

// An unknown model is the site's own 404 page; an architecture's name finds
// its entry.
func TestUnknownModelIsTheSite404(t *testing.T) {
	cat, err := catalog.Untrained("lenet5", 1)
	if err != nil {
		t.Fatal(err)
	}
	h := New(cat).Routes()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nope", nil))
	html := rec.Body.String()
	if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(html, `data-testid="topbar"`) || !strings.Contains(html, "unknown model &#34;nope&#34;") {
		t.Errorf("GET /nope: %d %q\n%s", rec.Code, rec.Header().Get("Content-Type"), html)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/lenet5", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="model-title">lenet5-untrained<`) {
		t.Errorf("GET /lenet5: %d", rec.Code)
	}
}

// render is the model page of zoo model name, untrained, as HTML.
func render(t *testing.T, name string) string {
	t.Helper()
	m, err := zoo.Build(name, nil, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := zoo.Summarize(m)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Page(catalog.Entry{Name: name, Model: name}, s).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// rowTag is the opening <tr> tag of the row called name, or "".
func rowTag(html, name string) string {
	i := strings.Index(html, `<tr id="row-`+name+`"`)
	if i < 0 {
		return ""
	}
	return html[i : i+strings.Index(html[i:], ">")+1]
}

// rowHTML is the whole <tr> of the row called name, or "".
func rowHTML(html, name string) string {
	i := strings.Index(html, `<tr id="row-`+name+`"`)
	if i < 0 {
		return ""
	}
	return html[i : i+strings.Index(html[i:], "</tr>")]
}

// The layer table is a tree: every row of every block is in the page with
// its depth and parent, blocks have a closed toggle naming what is inside,
// and side-by-side branches are tagged.
func TestTableIsATreeThatOpens(t *testing.T) {
	html := render(t, "resnet20")
	// ResNet-20: 9 top-level rows (3 of them stages), each stage 3 blocks
	// of 8 rows.
	if n := strings.Count(html, `data-testid="summary-row"`); n != 9+3*3*(1+8) {
		t.Errorf("%d rows, want 90", n)
	}
	if n := strings.Count(html, `data-depth="0"`); n != 9 {
		t.Errorf("%d top-level rows, want 9", n)
	}
	for name, want := range map[string][]string{
		"conv1":             {`data-depth="0"`, `data-parent=""`},
		"layer1":            {`data-depth="0"`, `data-parent=""`, `data-parts="3"`, `class="depth-0 block"`},
		"layer1.0":          {`data-depth="1"`, `data-parent="layer1"`, `data-parts="8"`, `class="depth-1 block"`},
		"layer1.0.conv1":    {`data-depth="2"`, `data-parent="layer1.0"`, `data-branch="main"`},
		"layer1.0.shortcut": {`data-depth="2"`, `data-parent="layer1.0"`, `data-branch="shortcut"`, `class="depth-2 branch-first"`},
		"layer3.2.add":      {`data-depth="2"`, `data-parent="layer3.2"`},
	} {
		tag := rowTag(html, name)
		if tag == "" {
			t.Errorf("no row %q", name)
			continue
		}
		for _, w := range want {
			if !strings.Contains(tag, w) {
				t.Errorf("row %q: %s lacks %s", name, tag, w)
			}
		}
	}
	// Pre-order: a block, then what is inside it, then its next sibling.
	if a, b, c := strings.Index(html, `id="row-layer1.0"`), strings.Index(html, `id="row-layer1.0.relu"`), strings.Index(html, `id="row-layer1.1"`); !(a < b && b < c) {
		t.Errorf("rows of layer1.0 at %d, %d, layer1.1 at %d: not in pre-order", a, b, c)
	}

	block := rowHTML(html, "layer1.0")
	for _, want := range []string{
		`<button type="button" class="tree-toggle" aria-expanded="false"`,
		`aria-controls="row-layer1.0.conv1 row-layer1.0.bn1 row-layer1.0.relu1 row-layer1.0.conv2 row-layer1.0.bn2 row-layer1.0.shortcut row-layer1.0.add row-layer1.0.relu"`,
		`aria-label="open layer1.0: 8 layers inside"`, `data-block="layer1.0"`,
	} {
		if !strings.Contains(block, want) {
			t.Errorf("layer1.0's row lacks %s:\n%s", want, block)
		}
	}
	if strings.Count(html, `class="tree-toggle"`) != 3+9 {
		t.Errorf("%d toggles, want one per block (12)", strings.Count(html, `class="tree-toggle"`))
	}
	if leaf := rowHTML(html, "layer1.0.conv1"); strings.Contains(leaf, "tree-toggle") {
		t.Errorf("a leaf has a toggle: %s", leaf)
	}
	if !strings.Contains(html, `data-testid="tree-controls" hidden>`) || !strings.Contains(html, `data-tree-action="open"`) || !strings.Contains(html, `data-tree-action="close"`) {
		t.Error("no open all / close all buttons")
	}

	// Branch tags: the residual's two paths.
	if row := rowHTML(html, "layer1.0.shortcut"); !strings.Contains(row, `data-testid="branch-tag">shortcut</span>`) {
		t.Errorf("layer1.0.shortcut has no shortcut tag: %s", row)
	}
	if row := rowHTML(html, "layer1.0.bn2"); !strings.Contains(row, `data-testid="branch-tag">main</span>`) {
		t.Errorf("layer1.0.bn2 has no main tag: %s", row)
	}
	if row := rowHTML(html, "layer1.0.add"); strings.Contains(row, "branch-tag") {
		t.Errorf("the addition, where the branches meet, is tagged: %s", row)
	}

	// Receptive fields: a size while units see part of the 32×32 input,
	// "whole input" (and no jump) once they all see it.
	for name, want := range map[string]string{
		"conv1":   `<td class="num">3×3</td><td class="num">1</td>`,
		"layer2":  `<td class="num">37×37</td><td class="num">2</td>`,
		"avgpool": `<td class="num">whole input</td><td class="num">—</td>`,
		"fc":      `<td class="num">whole input</td><td class="num">—</td>`,
	} {
		if row := rowHTML(html, name); !strings.Contains(row, want) {
			t.Errorf("row %q lacks %s:\n%s", name, want, row)
		}
	}
	if strings.Contains(html, "109×109") {
		t.Error("avgpool's field is printed as a size larger than the input")
	}

	// Dotted names may break after a dot; the block's part is muted.
	if row := rowHTML(html, "layer1.0.conv1"); !strings.Contains(row, `<span class="prefix">layer1.</span><wbr><span class="prefix">0.</span><wbr><span class="own">conv1</span><wbr>`) {
		t.Errorf("layer1.0.conv1's name: %s", row)
	}

	if !strings.Contains(html, `<div class="table-scroll"><table class="summary tree" id="summary-table"`) {
		t.Error("the table is not in a table-scroll")
	}
	if strings.Count(html, `<script type="module" src="/static/js/tree.js"></script>`) != 1 {
		t.Error("the page does not load tree.js once")
	}
	if !strings.Contains(html, `<a href="/?model=resnet20" data-testid="explore-link">`) {
		t.Error("no link to the explorer with this model")
	}
	// Totals count every layer once. ResNet-20 (option A, 10 classes) at
	// 3×32×32, by hand: parameters 432+32 (conv1, bn1), 6·2304+6·32 (stage 1),
	// 4608+5·9216+6·64 (stage 2), 18432+5·36864+6·128 (stage 3), 650 (fc) =
	// 269,722; multiply-adds 442,368 + 6·2,359,296 + 2·(1,179,648 +
	// 5·2,359,296) + 640 = 40,551,040.
	if !strings.Contains(html, "Total params: 269,722") || !strings.Contains(html, "Total mult-adds (M): 40.55") {
		t.Errorf("totals: %s", html[strings.Index(html, `<pre class="totals"`):strings.Index(html, "</pre>")])
	}
}

// An Inception module opens to its four branches side by side.
func TestInceptionShowsItsFourBranches(t *testing.T) {
	html := render(t, "googlenet_small")
	block := rowHTML(html, "inception3a")
	if !strings.Contains(block, `aria-label="open inception3a: 20 layers inside"`) || !strings.Contains(block, `aria-expanded="false"`) {
		t.Errorf("inception3a's toggle: %s", block)
	}
	for _, b := range []string{"branch1", "branch2", "branch3", "branch4"} {
		if n := strings.Count(html, `data-parent="inception3a" data-branch="inception3a.`+b+`"`); n == 0 {
			t.Errorf("inception3a has no rows on %s", b)
		}
		if n := strings.Count(html, `data-testid="branch-tag">`+b+`</span>`); n == 0 {
			t.Errorf("no %s tag", b)
		}
	}
	// Each branch starts with a separator: branch2's first row, not its second.
	if tag := rowTag(html, "inception3a.branch2.0.conv"); !strings.Contains(tag, "branch-first") {
		t.Errorf("branch2 does not start a group: %s", tag)
	}
	if tag := rowTag(html, "inception3a.branch2.0.bn"); strings.Contains(tag, "branch-first") {
		t.Errorf("branch2's second row starts a group: %s", tag)
	}
	if tag := rowTag(html, "inception3a.cat"); !strings.Contains(tag, `data-parent="inception3a"`) || strings.Contains(tag, "data-branch") {
		t.Errorf("the concatenation: %s", tag)
	}
}

// The page sets no style attribute, which the Content-Security-Policy
// (style-src 'self') would block, and a model without blocks has no
// toggles.
func TestPageNeedsNoInlineStyle(t *testing.T) {
	for _, name := range []string{"resnet20", "googlenet_small", "lenet5"} {
		html := render(t, name)
		if strings.Contains(html, "style=") || strings.Contains(html, "<style") {
			t.Errorf("%s: the page has inline style", name)
		}
	}
	html := render(t, "lenet5")
	if strings.Contains(html, "tree-toggle") || strings.Contains(html, "tree-controls") || strings.Contains(html, "tree-spacer") {
		t.Error("lenet5 has no blocks, yet its page has tree controls")
	}
}

func TestNameSegments(t *testing.T) {
	for _, c := range []struct {
		name, parent string
		want         []segment
	}{
		{"fc", "", []segment{{"fc", "own"}}},
		{"conv1.bn", "", []segment{{"conv1.", "own"}, {"bn", "own"}}},
		{"layer1.0.conv1", "layer1.0", []segment{{"layer1.", "prefix"}, {"0.", "prefix"}, {"conv1", "own"}}},
		{"inception3a.branch2.0.conv", "inception3a", []segment{{"inception3a.", "prefix"}, {"branch2.", "own"}, {"0.", "own"}, {"conv", "own"}}},
		{"layer10.x", "layer1", []segment{{"layer10.", "own"}, {"x", "own"}}},
	} {
		if got := nameSegments(c.name, c.parent); !slices.Equal(got, c.want) {
			t.Errorf("nameSegments(%q, %q) = %v, want %v", c.name, c.parent, got, c.want)
		}
	}
}

// A graph block from an ONNX file (DenseNet's dense block) opens to its
// nodes, and each join names what it reads, "input" for the block's.
func TestGraphRowsSayWhatTheyRead(t *testing.T) {
	m, err := onnx.Read("../../onnx/testdata/densenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	net, input, classes, err := m.Chain()
	if err != nil {
		t.Fatal(err)
	}
	s, err := zoo.Summarize(&zoo.Model{Name: "onnx", Input: input, Classes: classes, Net: net})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Page(catalog.Entry{Name: "densenet", Model: "onnx"}, s).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	if block := rowHTML(html, "features.denseblock1"); !strings.Contains(block, "(Graph)") || !strings.Contains(block, "12 layers inside") {
		t.Errorf("the dense block's row: %s", block)
	}
	row := rowHTML(html, "features.denseblock1.concat")
	if !strings.Contains(row, `data-testid="from-tag">← input + denselayer1.conv2 + denselayer2.conv2</span>`) {
		t.Errorf("the block's last concatenation: %s", row)
	}
	if row := rowHTML(html, "features.denseblock1.denselayer2.norm1"); strings.Contains(row, "from-tag") {
		t.Errorf("a node reading the node before it has a tag: %s", row)
	}
}
