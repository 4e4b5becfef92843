// Package zoo holds convscope's architectures, one file per family, a
// registry that builds them by name, and the summary (shapes, parameters,
// MACs, receptive fields) that torchinfo would print.
//
// Layer names are PyTorch's state_dict keys, so a checkpoint written by
// PyTorch for the same module tree loads by name.
package zoo
