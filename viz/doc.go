// Package viz turns tensors into pictures: feature maps quantised to 8-bit
// tiles with one shared scale per layer, colormaps, signed attribution maps,
// receptive-field boxes and PNG encoding. It does no network math.
package viz
