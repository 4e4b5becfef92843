// Package experiment runs Zeiler & Fergus' experiments ("Visualizing and
// Understanding Convolutional Networks", 2014) on any model convscope
// runs: what a feature map responds to across a dataset (the top-k scan of
// Figure 2), the filters themselves (Figure 6), occlusion panels (Figure
// 7), invariance to translation, scale and rotation (Figure 5) and the
// correspondence of object parts (Figure 8, Table 1).
//
// Each experiment is a function of a network, its inputs and a layer named
// by its dotted name, built on nn's traces and deconv's attribution entry
// point; it returns plain numbers that the CLI prints as JSON, the web
// streams to its page, and package viz draws as the paper's figure.
// Long ones take a context and report progress, so a caller can stop them.
package experiment
