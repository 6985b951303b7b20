//go:build !goexperiment.simd

package kernel

// The scalar build (any Go, no GOEXPERIMENT=simd): micro-tiles of 4×2 values held in
// scalar registers (microkernel_scalar.go). tile_simd.go is the vector build's.

// nr is the width of a micro-tile and of a packed panel of B.
const nr = 2

// packStrips is the vector build's choice (lanes_simd_*.go); the scalar kernels
// pack only a transposed A.
const packStrips = false

// SIMD reports whether the kernels run on SIMD vectors (GOEXPERIMENT=simd builds)
// and their width in float32 lanes; 1 for the scalar build.
func SIMD() (on bool, lanes int) { return false, 1 }

// block multiplies rows [r0, r1) and columns [pc, pc+kc) of A by the packed block
// bb (panels jb..je), and stores (add: adds) the tiles into C. A transposed A is
// first packed into abuf, a group of strips at a time.
func (j *gemmJob) block(bb, abuf []float32, pc, kc, r0, r1, jb, je int, add bool) {
	a, lda := j.a, j.lda
	panel := kc * nr
	jf := je // panels [jb, jf) are full; a last one with a single column is not
	if je*nr > j.n {
		jf = je - 1
	}
	lastPanel := bb[(je-1-jb)*panel : (je-jb)*panel]
	i := r0
	for j.transA && i+mr <= r1 {
		g := min(stripGroup, (r1-i)/mr)
		stride := mr*kc + stripPad
		packAT(abuf, a, lda, pc, kc, i, g, stride)
		for s := range g {
			ap := abuf[s*stride : s*stride+mr*kc]
			for jp := jb; jp < jf; jp++ {
				bp := bb[(jp-jb)*panel : (jp-jb+1)*panel]
				c00, c01, c10, c11, c20, c21, c30, c31 := kern4x2P(ap, bp)
				j.store4(i+s*mr, jp, add, c00, c01, c10, c11, c20, c21, c30, c31)
			}
			if jf < je {
				c0, c1, c2, c3 := kern4x1P(ap, lastPanel)
				j.store4(i+s*mr, jf, add, c0, 0, c1, 0, c2, 0, c3, 0)
			}
		}
		i += g * mr
	}
	for ; !j.transA && i+mr <= r1; i += mr {
		// Hoist the four row slices out of the panel loop.
		o := i*lda + pc
		a0 := a[o : o+kc]
		a1 := a[o+lda : o+lda+kc]
		a2 := a[o+2*lda : o+2*lda+kc]
		a3 := a[o+3*lda : o+3*lda+kc]
		for jp := jb; jp < jf; jp++ {
			bp := bb[(jp-jb)*panel : (jp-jb+1)*panel]
			c00, c01, c10, c11, c20, c21, c30, c31 := kern4x2N(a0, a1, a2, a3, bp)
			j.store4(i, jp, add, c00, c01, c10, c11, c20, c21, c30, c31)
		}
		if jf < je {
			c0, c1, c2, c3 := kern4x1N(a0, a1, a2, a3, lastPanel)
			j.store4(i, jf, add, c0, 0, c1, 0, c2, 0, c3, 0)
		}
	}
	for ; i < r1; i++ {
		for jp := jb; jp < je; jp++ {
			bp := bb[(jp-jb)*panel : (jp-jb+1)*panel]
			var c0, c1 float32
			if j.transA {
				c0, c1 = kern1x2T(kc, a[pc*lda+i:], lda, bp)
			} else {
				c0, c1 = kern1x2N(a[i*lda+pc:i*lda+pc+kc], bp)
			}
			j.store1(i, jp, add, c0, c1)
		}
	}
}

// store4 stores (or adds) the 4×2 tile at rows i..i+3, panel jp.
func (j *gemmJob) store4(i, jp int, add bool, c00, c01, c10, c11, c20, c21, c30, c31 float32) {
	j0 := jp * nr
	two := j0+1 < j.n
	switch j.ck {
	case cMatrix:
		o := i*j.ldc + j0
		put4(j.c, o, j.ldc, add, c00, c10, c20, c30)
		if two {
			put4(j.c, o+1, j.ldc, add, c01, c11, c21, c31)
		}
	case cStrided:
		put4(j.c, i*j.ldc+j.colDst[j0], j.ldc, add, c00, c10, c20, c30)
		if two {
			put4(j.c, i*j.ldc+j.colDst[j0+1], j.ldc, add, c01, c11, c21, c31)
		}
	case cScatter:
		j.scatter(i, j0, c00)
		j.scatter(i+1, j0, c10)
		j.scatter(i+2, j0, c20)
		j.scatter(i+3, j0, c30)
		if two {
			j.scatter(i, j0+1, c01)
			j.scatter(i+1, j0+1, c11)
			j.scatter(i+2, j0+1, c21)
			j.scatter(i+3, j0+1, c31)
		}
	}
}

// store1 stores (or adds) the 1×2 tile at row i, panel jp.
func (j *gemmJob) store1(i, jp int, add bool, c0, c1 float32) {
	j0 := jp * nr
	two := j0+1 < j.n
	switch j.ck {
	case cMatrix:
		put1(j.c, i*j.ldc+j0, add, c0)
		if two {
			put1(j.c, i*j.ldc+j0+1, add, c1)
		}
	case cStrided:
		put1(j.c, i*j.ldc+j.colDst[j0], add, c0)
		if two {
			put1(j.c, i*j.ldc+j.colDst[j0+1], add, c1)
		}
	case cScatter:
		j.scatter(i, j0, c0)
		if two {
			j.scatter(i, j0+1, c1)
		}
	}
}

func put4(c []float32, o, rs int, add bool, v0, v1, v2, v3 float32) {
	c = c[o : o+3*rs+1] // one bounds check for the four stores
	if add {
		c[0] += v0
		c[rs] += v1
		c[2*rs] += v2
		c[3*rs] += v3
		return
	}
	c[0] = v0
	c[rs] = v1
	c[2*rs] = v2
	c[3*rs] = v3
}
