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
	p := 0
	for ; p+3 < kc; p += 4 {
		x0 := a0[p : p+4 : p+4]
		x1 := a1[p : p+4 : p+4]
		x2 := a2[p : p+4 : p+4]
		x3 := a3[p : p+4 : p+4]
		bp := b[2*p : 2*p+8 : 2*p+8]
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

// kern4x2T is kern4x2N for a transposed A: the four values of step p are
// a[p·lda : p·lda+4], as in a PyTorch ConvTranspose2d weight read as Wᵀ.
func kern4x2T(kc int, a []float32, lda int, b []float32) (c00, c01, c10, c11, c20, c21, c30, c31 float32) {
	b = b[:2*kc]
	p, o := 0, 0
	for ; p+3 < kc; p += 4 {
		bp := b[2*p : 2*p+8 : 2*p+8]
		x0 := a[o : o+4 : o+4]
		o += lda
		x1 := a[o : o+4 : o+4]
		o += lda
		x2 := a[o : o+4 : o+4]
		o += lda
		x3 := a[o : o+4 : o+4]
		o += lda
		u0 := x0[0]
		u1 := x0[1]
		u2 := x0[2]
		u3 := x0[3]
		c00 += u0 * bp[0]
		c01 += u0 * bp[1]
		c10 += u1 * bp[0]
		c11 += u1 * bp[1]
		c20 += u2 * bp[0]
		c21 += u2 * bp[1]
		c30 += u3 * bp[0]
		c31 += u3 * bp[1]
		u0 = x1[0]
		u1 = x1[1]
		u2 = x1[2]
		u3 = x1[3]
		c00 += u0 * bp[2]
		c01 += u0 * bp[3]
		c10 += u1 * bp[2]
		c11 += u1 * bp[3]
		c20 += u2 * bp[2]
		c21 += u2 * bp[3]
		c30 += u3 * bp[2]
		c31 += u3 * bp[3]
		u0 = x2[0]
		u1 = x2[1]
		u2 = x2[2]
		u3 = x2[3]
		c00 += u0 * bp[4]
		c01 += u0 * bp[5]
		c10 += u1 * bp[4]
		c11 += u1 * bp[5]
		c20 += u2 * bp[4]
		c21 += u2 * bp[5]
		c30 += u3 * bp[4]
		c31 += u3 * bp[5]
		u0 = x3[0]
		u1 = x3[1]
		u2 = x3[2]
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
		x := a[o : o+4 : o+4]
		o += lda
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

// kern1x2T is the one-row edge of kern4x2T.
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
