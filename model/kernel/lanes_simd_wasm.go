//go:build goexperiment.simd && wasm

package kernel

// WebAssembly's SIMD is 128 bits wide, always: constants let the compiler fold the
// kernels' offsets and drop bounds checks that a variable width would need (about
// N % faster under V8, measured by make bench-wasm).
const (
	vl = 4
	nr = 2 * vl
)
