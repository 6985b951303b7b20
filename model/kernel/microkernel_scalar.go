//go:build !goexperiment.simd

package kernel

// The micro-kernels: the only loops where the floating-point work happens. Each
// returns its tile in registers; the caller stores it (see gemmJob.store4), so one
// kernel serves plain matrices, convolution outputs and the col2im scatter.

// kern4x2N returns the 4×2 tile Σ_p a_r[p]·b[2p+q] for the four rows a0..a3 of A
// (each at least len(a0) long) and one packed panel b of B (2·len(a0) values).
//
// The loop is unrolled four times in p. Go's scheduler puts every multiply of a
// basic block before the adds whose results leave the block, so a single step
// keeps eight products alive next to eight accumulators and spills; with four
// steps per block the first three interleave multiply-add pairs and only the
// last spills. The three-index re-slices prove every index in the body, so
// the loop carries no bounds checks (about 9–10 GFLOP/s on one amd64 core).
func kern4x2N(a0, a1, a2, a3, b []float32) (c00, c01, c10, c11, c20, c21, c30, c31 float32) {
	kc := len(a0)
	a1 = a1[:kc]
	a2 = a2[:kc]
	a3 = a3[:kc]
	b = b[:2*kc]
	// q = 2p is a variable of its own: amd64 has loads indexed by 4·q but not
	// by 8·p, and computing the address takes two more instructions per load.
	p, q := 0, 0
	for ; p+3 < kc; p, q = p+4, q+8 {
		x0 := a0[p : p+4 : p+4]
		x1 := a1[p : p+4 : p+4]
		x2 := a2[p : p+4 : p+4]
		x3 := a3[p : p+4 : p+4]
		bp := b[q : q+8 : q+8]
		u0 := x0[0]
		u1 := x1[0]
		u2 := x2[0]
		u3 := x3[0]
		c00 += u0 * bp[0]
		c01 += u0 * bp[1]
		c10 += u1 * bp[0]
		c11 += u1 * bp[1]
		c20 += u2 * bp[0]
		c21 += u2 * bp[1]
		c30 += u3 * bp[0]
		c31 += u3 * bp[1]
		u0 = x0[1]
		u1 = x1[1]
		u2 = x2[1]
		u3 = x3[1]
		c00 += u0 * bp[2]
		c01 += u0 * bp[3]
		c10 += u1 * bp[2]
		c11 += u1 * bp[3]
		c20 += u2 * bp[2]
		c21 += u2 * bp[3]
		c30 += u3 * bp[2]
		c31 += u3 * bp[3]
		u0 = x0[2]
		u1 = x1[2]
		u2 = x2[2]
		u3 = x3[2]
		c00 += u0 * bp[4]
		c01 += u0 * bp[5]
		c10 += u1 * bp[4]
		c11 += u1 * bp[5]
		c20 += u2 * bp[4]
		c21 += u2 * bp[5]
		c30 += u3 * bp[4]
		c31 += u3 * bp[5]
		u0 = x0[3]
		u1 = x1[3]
		u2 = x2[3]
		u3 = x3[3]
		c00 += u0 * bp[6]
		c01 += u0 * bp[7]
		c10 += u1 * bp[6]
		c11 += u1 * bp[7]
		c20 += u2 * bp[6]
		c21 += u2 * bp[7]
		c30 += u3 * bp[6]
		c31 += u3 * bp[7]
	}
	for ; p < kc; p++ {
		b0, b1 := b[2*p], b[2*p+1]
		u0 := a0[p]
		u1 := a1[p]
		u2 := a2[p]
		u3 := a3[p]
		c00 += u0 * b0
		c01 += u0 * b1
		c10 += u1 * b0
		c11 += u1 * b1
		c20 += u2 * b0
		c21 += u2 * b1
		c30 += u3 * b0
		c31 += u3 * b1
	}
	return
}

// kern4x2P is kern4x2N for an A packed in strips: the four values of step p
// are a[4p : 4p+4] (see packAT). A transposed A is packed first because read
// in place its steps lie lda apart, and with lda a multiple of 4 KiB (2048
// floats for a 128-channel ConvTranspose2d weight) every one of them falls in
// the same L1 set and evicts the others.
func kern4x2P(a, b []float32) (c00, c01, c10, c11, c20, c21, c30, c31 float32) {
	kc := len(a) / 4
	a = a[:4*kc]
	b = b[:2*kc]
	p, q, o := 0, 0, 0
	for ; p+3 < kc; p, q, o = p+4, q+8, o+16 {
		ap := a[o : o+16 : o+16]
		bp := b[q : q+8 : q+8]
		u0 := ap[0]
		u1 := ap[1]
		u2 := ap[2]
		u3 := ap[3]
		c00 += u0 * bp[0]
		c01 += u0 * bp[1]
		c10 += u1 * bp[0]
		c11 += u1 * bp[1]
		c20 += u2 * bp[0]
		c21 += u2 * bp[1]
		c30 += u3 * bp[0]
		c31 += u3 * bp[1]
		u0 = ap[4]
		u1 = ap[5]
		u2 = ap[6]
		u3 = ap[7]
		c00 += u0 * bp[2]
		c01 += u0 * bp[3]
		c10 += u1 * bp[2]
		c11 += u1 * bp[3]
		c20 += u2 * bp[2]
		c21 += u2 * bp[3]
		c30 += u3 * bp[2]
		c31 += u3 * bp[3]
		u0 = ap[8]
		u1 = ap[9]
		u2 = ap[10]
		u3 = ap[11]
		c00 += u0 * bp[4]
		c01 += u0 * bp[5]
		c10 += u1 * bp[4]
		c11 += u1 * bp[5]
		c20 += u2 * bp[4]
		c21 += u2 * bp[5]
		c30 += u3 * bp[4]
		c31 += u3 * bp[5]
		u0 = ap[12]
		u1 = ap[13]
		u2 = ap[14]
		u3 = ap[15]
		c00 += u0 * bp[6]
		c01 += u0 * bp[7]
		c10 += u1 * bp[6]
		c11 += u1 * bp[7]
		c20 += u2 * bp[6]
		c21 += u2 * bp[7]
		c30 += u3 * bp[6]
		c31 += u3 * bp[7]
	}
	for ; p < kc; p++ {
		b0, b1 := b[2*p], b[2*p+1]
		x := a[4*p : 4*p+4 : 4*p+4]
		c00 += x[0] * b0
		c01 += x[0] * b1
		c10 += x[1] * b0
		c11 += x[1] * b1
		c20 += x[2] * b0
		c21 += x[2] * b1
		c30 += x[3] * b0
		c31 += x[3] * b1
	}
	return
}

// kern4x1N is kern4x2N for a panel with one column (the last of an odd n, and
// every panel of a matrix-vector product such as a 1×1 layer at batch 1): it
// reads column 0 of the panel only, and keeps two sets of accumulators, for
// even and odd p, so that eight sums are in flight as in kern4x2N.
func kern4x1N(a0, a1, a2, a3, b []float32) (c0, c1, c2, c3 float32) {
	kc := len(a0)
	a1 = a1[:kc]
	a2 = a2[:kc]
	a3 = a3[:kc]
	b = b[:2*kc]
	var d0, d1, d2, d3 float32
	p, q := 0, 0
	for ; p+3 < kc; p, q = p+4, q+8 {
		x0 := a0[p : p+4 : p+4]
		x1 := a1[p : p+4 : p+4]
		x2 := a2[p : p+4 : p+4]
		x3 := a3[p : p+4 : p+4]
		bp := b[q : q+8 : q+8]
		c0 += x0[0] * bp[0]
		c1 += x1[0] * bp[0]
		c2 += x2[0] * bp[0]
		c3 += x3[0] * bp[0]
		d0 += x0[1] * bp[2]
		d1 += x1[1] * bp[2]
		d2 += x2[1] * bp[2]
		d3 += x3[1] * bp[2]
		c0 += x0[2] * bp[4]
		c1 += x1[2] * bp[4]
		c2 += x2[2] * bp[4]
		c3 += x3[2] * bp[4]
		d0 += x0[3] * bp[6]
		d1 += x1[3] * bp[6]
		d2 += x2[3] * bp[6]
		d3 += x3[3] * bp[6]
	}
	for ; p < kc; p++ {
		v := b[2*p]
		c0 += a0[p] * v
		c1 += a1[p] * v
		c2 += a2[p] * v
		c3 += a3[p] * v
	}
	return c0 + d0, c1 + d1, c2 + d2, c3 + d3
}

// kern4x1P is kern4x1N for a packed strip of A, as kern4x2P.
func kern4x1P(a, b []float32) (c0, c1, c2, c3 float32) {
	kc := len(a) / 4
	a = a[:4*kc]
	b = b[:2*kc]
	var d0, d1, d2, d3 float32
	p, q, o := 0, 0, 0
	for ; p+3 < kc; p, q, o = p+4, q+8, o+16 {
		ap := a[o : o+16 : o+16]
		bp := b[q : q+8 : q+8]
		c0 += ap[0] * bp[0]
		c1 += ap[1] * bp[0]
		c2 += ap[2] * bp[0]
		c3 += ap[3] * bp[0]
		d0 += ap[4] * bp[2]
		d1 += ap[5] * bp[2]
		d2 += ap[6] * bp[2]
		d3 += ap[7] * bp[2]
		c0 += ap[8] * bp[4]
		c1 += ap[9] * bp[4]
		c2 += ap[10] * bp[4]
		c3 += ap[11] * bp[4]
		d0 += ap[12] * bp[6]
		d1 += ap[13] * bp[6]
		d2 += ap[14] * bp[6]
		d3 += ap[15] * bp[6]
	}
	for ; p < kc; p++ {
		v := b[2*p]
		c0 += a[4*p+0] * v
		c1 += a[4*p+1] * v
		c2 += a[4*p+2] * v
		c3 += a[4*p+3] * v
	}
	return c0 + d0, c1 + d1, c2 + d2, c3 + d3
}

// kern1x2N is the one-row edge of kern4x2N, for the last m mod 4 rows.
func kern1x2N(a0, b []float32) (c0, c1 float32) {
	kc := len(a0)
	b = b[:2*kc]
	for p, u := range a0 {
		c0 += u * b[2*p]
		c1 += u * b[2*p+1]
	}
	return
}

// kern1x2T is the one-row edge for a transposed A, read in place: a[p·lda].
func kern1x2T(kc int, a []float32, lda int, b []float32) (c0, c1 float32) {
	b = b[:2*kc]
	o := 0
	for p := 0; p < kc; p++ {
		u := a[o]
		o += lda
		c0 += u * b[2*p]
		c1 += u * b[2*p+1]
	}
	return
}

// dotRow is Σ a[p]·x[p] over len(x) values, in four partial sums (the order the
// vector build's lanes sum in, for four lanes).
func dotRow(a, x []float32) float32 {
	a = a[:len(x)]
	var s0, s1, s2, s3 float32
	p := 0
	for ; p+3 < len(x); p += 4 {
		s0 += a[p] * x[p]
		s1 += a[p+1] * x[p+1]
		s2 += a[p+2] * x[p+2]
		s3 += a[p+3] * x[p+3]
	}
	for ; p < len(x); p++ {
		s0 += a[p] * x[p]
	}
	return (s0 + s1) + (s2 + s3)
}
