package torchengine

import (
	"fmt"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// torchError carries a libtorch error from must to the recover in catch, so that the
// tensor code reads as a sequence of operations instead of a ladder of if err != nil.
type torchError struct{ err error }

func must(t *ts.Tensor, err error) *ts.Tensor {
	if err != nil {
		panic(torchError{err})
	}
	return t
}

func check(err error) {
	if err != nil {
		panic(torchError{err})
	}
}

// catch turns a torchError panic into *err; other panics go on.
func catch(err *error) {
	if r := recover(); r != nil {
		te, ok := r.(torchError)
		if !ok {
			panic(r)
		}
		*err = fmt.Errorf("libtorch: %w", te.err)
	}
}

// scope owns the tensors made during one step and frees them together. gotch frees a
// tensor's C memory from a Go finalizer otherwise, and the Go heap stays so small in
// training that the collector would let gigabytes of activations pile up between
// cycles. Dropping a tensor the autograd graph still uses is safe: libtorch counts
// references.
type scope struct{ tensors []*ts.Tensor }

// t records a freshly made tensor and returns it, or panics with its error.
func (s *scope) t(x *ts.Tensor, err error) *ts.Tensor {
	x = must(x, err)
	s.tensors = append(s.tensors, x)
	return x
}

func (s *scope) drop() {
	for _, x := range s.tensors {
		_ = x.Drop()
	}
	clear(s.tensors)
	s.tensors = s.tensors[:0]
}

// inPlace runs op, one of gotch's in-place methods (Add_, MulScalar_, Zero_, ...) on x,
// and frees the C++ handle that gotch v0.8.0 leaks there: its generated in-place
// methods point x at a new handle to the same tensor and drop the old one without
// deleting it. Besides the handle, the leaked reference keeps the tensor's storage
// alive for ever, so every in-place op on a temporary leaked its memory (megabytes per
// training step, found by watching RSS grow).
func inPlace(x *ts.Tensor, op func() error) {
	old := x.Ctensor()
	check(op())
	if x.Ctensor() != old {
		check(ts.FromCtensor(old).Drop())
	}
}

// noGrad runs fn with gradient tracking off on this thread and turns it back on
// afterwards, even when fn panics. Grad mode is on everywhere else in this package.
// It does not restore "the previous mode" because gotch v0.8.0's GradSetEnabled cannot
// report it: lib.AtGradSetEnabled reads the 4-byte C int it gets back as an 8-byte Go
// int, so the upper half is stack garbage and the "previous" mode comes back false
// whenever that garbage is not zero (restoring it switched autograd off for good).
func noGrad(fn func()) {
	_, err := ts.GradSetEnabled(false)
	check(err)
	defer func() { _, _ = ts.GradSetEnabled(true) }()
	fn()
}

// fromSlice makes a float32 tensor of shape on device holding a copy of v.
func fromSlice(sc *scope, v []float32, shape []int64, device gotch.Device) *ts.Tensor {
	if want := numel(shape); len(v) != want {
		panic(fmt.Sprintf("train: %d values for shape %v (%d)", len(v), shape, want))
	}
	// OfDataSize copies bytes straight into the tensor; ts.OfSlice would encode the
	// floats one by one through reflection.
	raw := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
	x := sc.t(ts.OfDataSize(raw, shape, gotch.Float))
	if device != gotch.CPU {
		x = sc.t(x.To(device, false))
	}
	return x
}

// values copies a float32 tensor's values to Go, in row-major order.
func values(sc *scope, x *ts.Tensor) []float32 {
	dev, err := x.Device()
	check(err)
	if dev != gotch.CPU {
		x = sc.t(x.To(gotch.CPU, false))
	}
	x = sc.t(x.Contiguous(false))
	n := x.Numel()
	out := make([]float32, n)
	if n > 0 {
		check(x.CopyData(out, n))
	}
	return out
}

// scalar reads a one-element tensor.
func scalar(sc *scope, x *ts.Tensor) float64 {
	v := values(sc, x)
	if len(v) != 1 {
		panic(fmt.Sprintf("train: scalar of a tensor with %d values", len(v)))
	}
	return float64(v[0])
}

// assign overwrites the values of dst (a variable, possibly requiring grad) with v.
func assign(sc *scope, dst *ts.Tensor, v []float32) {
	shape, err := dst.Size()
	check(err)
	dev, err := dst.Device()
	check(err)
	src := fromSlice(sc, v, shape, dev)
	noGrad(func() {
		// Zero then add rather than gotch's Copy_, which calls log.Fatal on error.
		inPlace(dst, dst.Zero_)
		inPlace(dst, func() error { return dst.Add_(src) })
	})
}

func numel(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}

func int64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}
