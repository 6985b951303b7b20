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

// packStrips says whether the vector GEMM packs A in strips of interleaved rows for
// the WebAssembly strip kernel (stripBlocks). Not here: on amd64 a broadcast from
// memory is one instruction, so A stays in rows (vkern4N); a strip loop in Go spilled
// a vector register through a legacy SSE move and ran several times slower.
const packStrips = false

// stripBlocks is the WebAssembly build's strip path (strips_wasm.go); here it leaves
// every row to block.
func (j *gemmJob) stripBlocks(bb, abuf []float32, pc, kc, r0, r1, jb, je int, add bool, tile []float32) int {
	return r0
}
