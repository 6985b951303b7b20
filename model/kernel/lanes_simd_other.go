//go:build goexperiment.simd && !wasm

package kernel

import "simd"

// The vector width is the machine's, known at start-up (simd.VectorBitSize): 4 lanes
// with NEON, and on amd64 16 with AVX-512 and 8 with AVX2 only where the CPU also has
// VPCLMULQDQ (Ice Lake, Zen 3 and later); older AVX2 CPUs get 4. GODEBUG=simd=128 or
// 256 narrows it, and make test runs the kernels at 4, 8 and 16 lanes.
var (
	vl = simd.VectorBitSize() / 32
	nr = 2 * vl
)

// packStrips says whether the vector GEMM packs A in strips of interleaved rows
// (vkern4S, vkern4P) or reads it in rows (vkern4N). Not here: on amd64 the strip
// loop spills a vector register through a legacy SSE move and runs several times
// slower, and a broadcast from memory is one instruction, so A stays in rows.
const packStrips = false

// stripLanes is how many floats a strip of A packed at a call gives each value:
// one, in the strips of a transposed A read in rows (packATRows).
const stripLanes = 1
