package summary

import (
	"context"
	"strconv"
	"strings"

	"github.com/convscope/convscope/web/i18n"
	"github.com/convscope/convscope/zoo"
)

// maxIndent is the deepest indentation the stylesheet has a class for
// (depth-1 … depth-6); deeper rows are indented as much as depth 6.
const maxIndent = 6

// row is one line of the layer tree as the page prints it: a summary row
// with what the template needs worked out beforehand.
type row struct {
	zoo.LayerInfo
	// Index numbers the top-level rows from 0, as torchinfo numbers a
	// model's layers; nested rows have -1.
	Index int
	// Controls lists the element ids of the rows directly inside a block,
	// separated by spaces (the toggle's aria-controls).
	Controls string
	// BranchTag is Branch without its block's prefix ("branch2" for
	// "inception3a.branch2", "3" for a numbered "c3.3", which BranchNumber
	// marks: the page calls it "branch 3"), BranchFirst marks the first row
	// of a branch.
	BranchTag    string
	BranchNumber bool
	BranchFirst  bool
}

// rowID is the element id of the row called name.
func rowID(name string) string { return "row-" + name }

// depthClass is the class that indents a row of depth d.
func depthClass(d int) string { return "depth-" + strconv.Itoa(min(d, maxIndent)) }

// rowClass is the class list of a row: its indentation, and where a
// side-by-side branch begins.
func rowClass(r row) string {
	c := depthClass(r.Depth)
	if r.Parts > 0 {
		c += " block"
	}
	if r.BranchFirst {
		c += " branch-first"
	}
	return c
}

// toggleLabel names a block's toggle: what opens it (open false: the
// block is closed, as the page starts) or closes it; tree.js swaps one for
// the other (data-open-label, data-close-label).
func toggleLabel(ctx context.Context, r row, open bool) string {
	switch {
	case open && r.Parts == 1:
		return i18n.T(ctx, "model.toggle_close_one", r.Name, r.Parts)
	case open:
		return i18n.T(ctx, "model.toggle_close", r.Name, r.Parts)
	case r.Parts == 1:
		return i18n.T(ctx, "model.toggle_open_one", r.Name, r.Parts)
	}
	return i18n.T(ctx, "model.toggle_open", r.Name, r.Parts)
}

// branchTag is a row's branch tag as the page prints it.
func branchTag(ctx context.Context, r row) string {
	if r.BranchNumber {
		return i18n.T(ctx, "model.branch_number", r.BranchTag)
	}
	return r.BranchTag
}

// branchTitle says what a branch tag means.
func branchTitle(ctx context.Context, r row) string {
	return i18n.T(ctx, "model.branch_title", r.BranchTag, r.Parent)
}

// fromText names the rows a graph block's row reads (zoo.LayerInfo.From),
// without their block's prefix; "input" is the block's input.
func fromText(ctx context.Context, r row) string {
	names := make([]string, len(r.From))
	for i, f := range r.From {
		names[i] = strings.TrimPrefix(f, r.Parent+".")
		if f == "" {
			names[i] = i18n.T(ctx, "model.block_input")
		}
	}
	return strings.Join(names, " + ")
}

// hasBlocks reports whether any row opens.
func hasBlocks(s *zoo.Summary) bool {
	for _, l := range s.Layers {
		if l.Parts > 0 {
			return true
		}
	}
	return false
}

// rows lays out every row of s in pre-order for the page: top-level rows
// numbered, blocks knowing the ids of their direct children, branch rows
// tagged with their branch's short name.
func rows(s *zoo.Summary) []row {
	out := make([]row, len(s.Layers))
	at := make(map[string]int, len(s.Layers))
	children := make(map[string][]string)
	lastBranch := make(map[string]string) // block -> branch of its last row so far
	top := 0
	for i, l := range s.Layers {
		r := row{LayerInfo: l, Index: -1}
		if l.Depth == 0 {
			r.Index = top
			top++
		}
		if l.Branch != "" {
			r.BranchTag = strings.TrimPrefix(l.Branch, l.Parent+".")
			_, err := strconv.Atoi(r.BranchTag)
			r.BranchNumber = err == nil // LeNet-5's c3.0 … c3.15
			r.BranchFirst = lastBranch[l.Parent] != l.Branch
		}
		lastBranch[l.Parent] = l.Branch
		if l.Parent != "" {
			children[l.Parent] = append(children[l.Parent], rowID(l.Name))
		}
		at[l.Name] = i
		out[i] = r
	}
	for name, ids := range children {
		if i, ok := at[name]; ok {
			out[i].Controls = strings.Join(ids, " ")
		}
	}
	return out
}

// segment is one piece of a dotted name as the page prints it.
type segment struct{ text, class string }

// nameSegments splits a dotted name after each dot, so that the page can
// offer a line break there: "layer1.0.conv1" is "layer1.", "0.", "conv1".
// The pieces the name shares with its parent block are of class "prefix",
// the others of class "own".
func nameSegments(name, parent string) []segment {
	shared := 0
	if parent != "" && strings.HasPrefix(name, parent+".") {
		shared = len(parent) + 1
	}
	var out []segment
	for start := 0; start < len(name); {
		end := len(name)
		if i := strings.IndexByte(name[start:], '.'); i >= 0 {
			end = start + i + 1
		}
		class := "own"
		if end <= shared {
			class = "prefix"
		}
		out = append(out, segment{name[start:end], class})
		start = end
	}
	return out
}

// rfText is a row's receptive field: its side, or "whole input" once every
// unit sees all of it.
func rfText(ctx context.Context, l zoo.LayerInfo) string {
	if l.Whole {
		return i18n.T(ctx, "model.whole_input")
	}
	return strconv.Itoa(l.RF) + "×" + strconv.Itoa(l.RF)
}

// jumpText is a row's jump, or a dash where every unit sees the whole input
// (a distance between fields that each cover everything says nothing).
func jumpText(l zoo.LayerInfo) string {
	if l.Whole {
		return "—"
	}
	return strconv.Itoa(l.Jump)
}
