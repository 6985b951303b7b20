//go:build goexperiment.simd

package kernel

import "simd"

// The vector micro-kernels: tiles of 4 rows × nr = 2·vl columns, eight vector
// accumulators (c[row][half]). Each step broadcasts one value of each row of A and
// multiply-adds it with the two vectors of B's packed row. Two steps per iteration:
// measured on one core, that is about 1.4× one step natively (AVX-512). (The
// WebAssembly build's strip kernel is in assembly: microkernel_wasm.go.) A panel of B
// holds kc rows of nr values (zeros past the matrix's last column), so the kernels
// never look at n; the store keeps the columns that exist.

// vkern4N computes the tile Σ_p a_r[p]·B[p][:] for the four rows a0..a3 of A (each
// of length kc) and a packed panel b (kc·nr values), into tile (4·nr values).
func vkern4N(a0, a1, a2, a3, b, tile []float32) {
	kc := len(a0)
	a1, a2, a3 = a1[:kc], a2[:kc], a3[:kc]
	w := vl
	b = b[:kc*nr]
	var c00, c01, c10, c11, c20, c21, c30, c31 simd.Float32s
	p := 0
	for ; p+1 < kc; p += 2 {
		b0 := simd.LoadFloat32s(b)
		b1 := simd.LoadFloat32s(b[w:])
		b2 := simd.LoadFloat32s(b[2*w:])
		b3 := simd.LoadFloat32s(b[3*w:])
		x := simd.BroadcastFloat32s(a0[p])
		c00 = x.MulAdd(b0, c00)
		c01 = x.MulAdd(b1, c01)
		x = simd.BroadcastFloat32s(a1[p])
		c10 = x.MulAdd(b0, c10)
		c11 = x.MulAdd(b1, c11)
		x = simd.BroadcastFloat32s(a2[p])
		c20 = x.MulAdd(b0, c20)
		c21 = x.MulAdd(b1, c21)
		x = simd.BroadcastFloat32s(a3[p])
		c30 = x.MulAdd(b0, c30)
		c31 = x.MulAdd(b1, c31)
		x = simd.BroadcastFloat32s(a0[p+1])
		c00 = x.MulAdd(b2, c00)
		c01 = x.MulAdd(b3, c01)
		x = simd.BroadcastFloat32s(a1[p+1])
		c10 = x.MulAdd(b2, c10)
		c11 = x.MulAdd(b3, c11)
		x = simd.BroadcastFloat32s(a2[p+1])
		c20 = x.MulAdd(b2, c20)
		c21 = x.MulAdd(b3, c21)
		x = simd.BroadcastFloat32s(a3[p+1])
		c30 = x.MulAdd(b2, c30)
		c31 = x.MulAdd(b3, c31)
		b = b[4*w:]
	}
	if p < kc {
		b0 := simd.LoadFloat32s(b)
		b1 := simd.LoadFloat32s(b[w:])
		x := simd.BroadcastFloat32s(a0[p])
		c00 = x.MulAdd(b0, c00)
		c01 = x.MulAdd(b1, c01)
		x = simd.BroadcastFloat32s(a1[p])
		c10 = x.MulAdd(b0, c10)
		c11 = x.MulAdd(b1, c11)
		x = simd.BroadcastFloat32s(a2[p])
		c20 = x.MulAdd(b0, c20)
		c21 = x.MulAdd(b1, c21)
		x = simd.BroadcastFloat32s(a3[p])
		c30 = x.MulAdd(b0, c30)
		c31 = x.MulAdd(b1, c31)
	}
	storeTile4(tile, c00, c01, c10, c11, c20, c21, c30, c31)
	zeroUpper()
}

// storeTile4 stores a tile's eight accumulators into tile, rows of nr values.
func storeTile4(tile []float32, c00, c01, c10, c11, c20, c21, c30, c31 simd.Float32s) {
	w := vl
	tile = tile[:4*nr]
	c00.Store(tile)
	c01.Store(tile[w:])
	c10.Store(tile[2*w:])
	c11.Store(tile[3*w:])
	c20.Store(tile[4*w:])
	c21.Store(tile[5*w:])
	c30.Store(tile[6*w:])
	c31.Store(tile[7*w:])
}

// vkern1N computes the 1×nr tile of one row a0 of A (length kc) against a packed
// panel b, into tile (nr values).
func vkern1N(a0, b, tile []float32) {
	w := vl
	b = b[:len(a0)*nr]
	var c0, c1 simd.Float32s
	for _, v := range a0 {
		x := simd.BroadcastFloat32s(v)
		c0 = x.MulAdd(simd.LoadFloat32s(b), c0)
		c1 = x.MulAdd(simd.LoadFloat32s(b[w:]), c1)
		b = b[nr:]
	}
	c0.Store(tile)
	c1.Store(tile[w:])
	zeroUpper()
}

// vkern1T is vkern1N for one row of a transposed A: its kc values lie lda apart.
func vkern1T(kc int, a []float32, lda int, b, tile []float32) {
	w := vl
	b = b[:kc*nr]
	var c0, c1 simd.Float32s
	for p := range kc {
		x := simd.BroadcastFloat32s(a[p*lda])
		c0 = x.MulAdd(simd.LoadFloat32s(b), c0)
		c1 = x.MulAdd(simd.LoadFloat32s(b[w:]), c1)
		b = b[nr:]
	}
	c0.Store(tile)
	c1.Store(tile[w:])
	zeroUpper()
}

// dotRow is Σ a[p]·x[p] over len(x) values: two vector accumulators, then their lanes
// summed, then the last values that fill no vector.
func dotRow(a, x []float32) float32 {
	w := vl
	a = a[:len(x)]
	var s0, s1 simd.Float32s
	p := 0
	for ; p+2*w <= len(x); p += 2 * w {
		s0 = simd.LoadFloat32s(a[p:]).MulAdd(simd.LoadFloat32s(x[p:]), s0)
		s1 = simd.LoadFloat32s(a[p+w:]).MulAdd(simd.LoadFloat32s(x[p+w:]), s1)
	}
	var lanes [maxNR / 2]float32
	s0.Add(s1).Store(lanes[:w])
	zeroUpper()
	var s float32
	for _, v := range lanes[:w] {
		s += v
	}
	for ; p < len(x); p++ {
		s += a[p] * x[p]
	}
	return s
}
