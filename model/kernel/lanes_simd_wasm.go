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

// packStrips says whether the vector GEMM packs A in strips of interleaved rows
// (splat strips for vkern4S, or weights packed at load for vkern4P) or reads it in
// rows (vkern4N). Under V8 one slice per step beats four (12.3 against 10.5
// GFLOP/s in cache, before the splat strips, which doubled that).
const packStrips = true

// stripLanes is how many floats a strip of A packed at a call gives each value:
// the wasm kernel reads them splat, a vector per value (vkern4S).
const stripLanes = vl
