// Package train fits a zoo model to a labelled image set: mini-batch SGD
// with momentum, a cosine learning-rate schedule, evaluation after every
// epoch, and progress events that the CLI draws as a bar and the web can
// stream. It knows nothing about files or terminals.
package train
