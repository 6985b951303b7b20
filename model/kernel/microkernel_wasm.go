//go:build goexperiment.simd && wasm

package kernel

import "unsafe"

// stripKernel computes the 4×nr tile of a strip a of A (packAN's or packAT's compact
// strips: the four rows' values of step p at a[4p:4p+4]) against a packed panel b,
// and stores it into (add: adds it to) the four rows of c, ldc apart: rows of C where
// a tile's rows are rows of C in memory, or a tile buffer. It runs
// stripKernelWasm, whose lengths are checked here.
//
// In cache, one V8 core, the assembly runs at about 30 GFLOP/s at depth 256; the
// same kernel in Go (with A pre-broadcast in strips four times larger, which it
// needed to reach that) ran at 24.
func stripKernel(a, b, c []float32, ldc int, add bool) {
	steps := min(len(a)/mr, len(b)/nr)
	_ = c[3*ldc+nr-1] // the last value the tile writes, within len(c)
	stripKernelWasm(unsafe.SliceData(a), unsafe.SliceData(b), &c[0], steps, ldc, add)
}

// stripKernelWasm is stripKernel in WebAssembly (microkernel_wasm.s, written by
// gen_kernel_wasm.go): steps steps of the strip a against the panel b.
//
//go:noescape
func stripKernelWasm(a, b, c *float32, steps, ldc int, add bool)
