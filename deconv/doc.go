// Package deconv projects activations back to pixel space.
//
// Its centre is Zeiler & Fergus' deconvnet (Visualizing and Understanding
// Convolutional Networks, 2013): to see what one unit responds to, keep that
// unit's activation, set every other activation of its layer to zero, and
// walk the network backwards to the input with three operations:
//
//   - unpooling: each value goes back to the position its max-pool window
//     chose in the forward pass (the switches recorded in the Trace);
//   - rectification: the reconstructed signal goes through a ReLU, whatever
//     the forward activation was;
//   - filtering: a transposed convolution with the layer's own filters (the
//     convolution's backward-to-input, without the bias).
//
// Layers outside those three (linear, flatten, average pooling, tanh) are
// reversed by their own backward under nn.Deconvnet.
//
// A layer is found by its dotted name anywhere in a Trace, inside blocks
// too (Find); a Unit is a channel and a position of its maps. Attribute is
// the one entry point of the CLI and the web: the deconvnet (ProjectAt), or
// the same seed walked back under the gradient or guided rule.
package deconv
