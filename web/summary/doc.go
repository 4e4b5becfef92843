// Package summary is the room of the model page: a table of layers with
// output shape, parameters, multiply-accumulates and receptive field, as
// torchinfo prints it, plus what is known of the weights. The table is the
// model's layer tree: every row inside every block is in the page, and
// static/js/tree.js opens and closes the blocks.
package summary
