// Package summary is the room of the model page: a table of layers with
// output shape, parameters, multiply-accumulates and receptive field, as
// torchinfo prints it, plus what is known of the weights.
package summary
