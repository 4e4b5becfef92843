package nn

import (
	"fmt"
	"strings"
)

// Tensor is a contiguous float32 array with a shape, row-major (NCHW for
// images). It is deliberately small: no strides, no views, no dtype.
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, Numel(shape))}
}

// FromData wraps data (not copied) in a tensor of the given shape. It panics
// if len(data) does not match the shape: that is a programming error.
func FromData(data []float32, shape ...int) *Tensor {
	if len(data) != Numel(shape) {
		panic(fmt.Sprintf("nn.FromData: %d values for shape %v", len(data), shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// Numel is the number of elements of a shape (1 for the empty shape).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements of t.
func (t *Tensor) Len() int { return len(t.Data) }

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Reshape returns a tensor sharing t's data with a new shape of the same size.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	if Numel(shape) != len(t.Data) {
		panic(fmt.Sprintf("nn.Reshape: %v to %v", t.Shape, shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: t.Data}
}

// Sample returns sample n of a batched tensor (shape[0] is N), sharing data.
func (t *Tensor) Sample(n int) *Tensor {
	per := len(t.Data) / t.Shape[0]
	return &Tensor{Shape: append([]int{1}, t.Shape[1:]...), Data: t.Data[n*per : (n+1)*per]}
}

// SameShape reports whether a and b have equal shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ShapeString formats a shape as PyTorch prints it in summaries: [1, 6, 28, 28].
func ShapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ArgMax returns the index of the largest value of data (the first on ties).
func ArgMax(data []float32) int {
	best := 0
	for i, v := range data {
		if v > data[best] {
			best = i
		}
	}
	return best
}
