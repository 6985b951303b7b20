//go:build goexperiment.simd && !wasm

package kernel

import "simd"

// The vector width is the machine's, known at start-up: 4 lanes with SSE or NEON, 8
// with AVX2, 16 with AVX-512 (GODEBUG=simd=256 narrows it).
var (
	vl = simd.VectorBitSize() / 32
	nr = 2 * vl
)

// packStrips says whether the vector GEMM packs A in strips of interleaved rows
// (vkern4P) or reads it in rows (vkern4N); see vkern4P for why it differs.
const packStrips = false
