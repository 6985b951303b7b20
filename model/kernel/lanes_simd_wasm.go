//go:build goexperiment.simd && wasm

package kernel

// WebAssembly's SIMD is 128 bits wide, always: constants let the compiler fold the
// kernels' offsets and drop the bounds checks that a variable width needs. Measured
// under Node (V8), the generator at width 64: 8.1 against 7.3 GFLOP/s at batch 64,
// 6.2 against 5.7 at batch 1.
const (
	vl = 4
	nr = 2 * vl
)

// packStrips says whether the vector GEMM packs A in strips of interleaved rows for
// the strip kernel (stripBlocks, stripKernel: packed at a call, or weights packed at
// load) or reads it in rows (vkern4N). Under V8 one slice per step beats four.
const packStrips = true
