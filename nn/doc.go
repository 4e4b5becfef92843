// Package nn is convscope's tensor and neural-network engine: float32 NCHW
// tensors, layers with forward and backward passes, losses, optimizers,
// PyTorch's initialisation and safetensors checkpoints.
//
// Shape glossary used in every comment of this package:
//
//	N  batch size          C  channels (input)     K  output channels (filters)
//	H  height              W  width                k  kernel size (square)
//	s  stride              p  padding              H', W'  output height, width
//
// A model's weights are shared and read-only while serving. A forward pass
// returns a Trace: every named layer's input, output and what its backward
// needs (pooling switches, dropout masks). Backward, the deconvnet and the web
// server all read the Trace; no per-call state lives in a layer, so many
// browser sessions can use one model at once.
//
// Backward takes a Rule. The gradient rule is ordinary backpropagation; the
// deconvnet rule (Zeiler & Fergus 2013) rectifies the backward signal at each
// ReLU instead of masking it with the forward activation; guided
// backpropagation does both. The three differ only at the rectifiers:
// max-pooling always routes through its recorded switches and a convolution's
// backward-to-input is the transposed convolution with the layer's own filters.
//
// Layer names follow PyTorch's state_dict keys ("features.0", "c1") so that
// checkpoints port by name.
package nn
