//go:build goexperiment.simd

package kernel

import "simd"

// The vector build (Go 1.27 with GOEXPERIMENT=simd): micro-tiles of 4 rows × two
// SIMD vectors (microkernel_simd.go). A vector holds vl float32 lanes: 4 under
// WebAssembly (128-bit SIMD), 4, 8 or 16 on amd64 (see lanes_simd_other.go); nr
// follows it, so nothing here assumes a width.

// vl, the number of float32 lanes of a vector, and nr, the width of a micro-tile
// and of a packed panel of B (two vectors), are in lanes_simd_wasm.go and
// lanes_simd_other.go.

// maxNR bounds nr for the tile buffers on the stack: two vectors of 2048 bits, the
// largest any SIMD extension defines.
const maxNR = 2 * 2048 / 32

// SIMD reports whether the kernels run on SIMD vectors (GOEXPERIMENT=simd builds)
// and their width in float32 lanes; 1 for the scalar build.
func SIMD() (on bool, lanes int) { return true, vl }

// block multiplies rows [r0, r1) and columns [pc, pc+kc) of A by the packed block
// bb (panels jb..je), and stores (add: adds) the tiles into C. Under WebAssembly
// whole strips of rows go to stripBlocks (A packed in strips, a kernel in
// WebAssembly assembly); natively, and for the rows it leaves, a tile goes from the
// vector registers to a small buffer on the stack and from there through the job's
// store: per tile that is 4·nr values against 4·nr·kc multiply-adds.
func (j *gemmJob) block(bb, abuf []float32, pc, kc, r0, r1, jb, je int, add bool) {
	a, lda := j.a, j.lda
	panel := kc * nr
	var buf [mr * maxNR]float32
	tile := buf[:mr*nr]
	i := r0
	if packStrips {
		i = j.stripBlocks(bb, abuf, pc, kc, r0, r1, jb, je, add, tile)
	}
	for j.transA && i+mr <= r1 {
		g := min(stripGroup, (r1-i)/mr)
		stride := mr*kc + stripPad
		packATRows(abuf, a, lda, pc, kc, i, g, stride)
		for s := range g {
			ap := abuf[s*stride : s*stride+mr*kc]
			a0, a1, a2, a3 := ap[:kc], ap[kc:2*kc], ap[2*kc:3*kc], ap[3*kc:4*kc]
			for jp := jb; jp < je; jp++ {
				vkern4N(a0, a1, a2, a3, bb[(jp-jb)*panel:(jp-jb+1)*panel], tile)
				j.storeTile(i+s*mr, mr, jp, add, tile)
			}
		}
		i += g * mr
	}
	for ; !j.transA && i+mr <= r1; i += mr {
		o := i*lda + pc
		a0 := a[o : o+kc]
		a1 := a[o+lda : o+lda+kc]
		a2 := a[o+2*lda : o+2*lda+kc]
		a3 := a[o+3*lda : o+3*lda+kc]
		for jp := jb; jp < je; jp++ {
			vkern4N(a0, a1, a2, a3, bb[(jp-jb)*panel:(jp-jb+1)*panel], tile)
			j.storeTile(i, mr, jp, add, tile)
		}
	}
	for ; i < r1; i++ {
		for jp := jb; jp < je; jp++ {
			bp := bb[(jp-jb)*panel : (jp-jb+1)*panel]
			if j.transA {
				vkern1T(kc, a[pc*lda+i:], lda, bp, tile[:nr])
			} else {
				vkern1N(a[i*lda+pc:i*lda+pc+kc], bp, tile[:nr])
			}
			j.storeTile(i, 1, jp, add, tile)
		}
	}
}

// storeTile stores (or adds) rows i..i+rows-1 of panel jp from tile (rows of nr
// values), keeping only the panel's columns that exist.
func (j *gemmJob) storeTile(i, rows, jp int, add bool, tile []float32) {
	j0 := jp * nr
	cols := min(nr, j.n-j0)
	switch j.ck {
	case cMatrix:
		for r := range rows {
			storeRow(j.c[(i+r)*j.ldc+j0:(i+r)*j.ldc+j0+cols], tile[r*nr:r*nr+cols], add)
		}
	case cStrided:
		dst := j.colDst[j0 : j0+cols]
		if dst[cols-1]-dst[0] == cols-1 {
			// The panel's pixels follow each other in one image: rows of C are
			// contiguous there, as in a plain matrix.
			for r := range rows {
				o := (i+r)*j.ldc + dst[0]
				storeRow(j.c[o:o+cols], tile[r*nr:r*nr+cols], add)
			}
			return
		}
		for r := range rows {
			t := tile[r*nr : r*nr+cols]
			o := (i + r) * j.ldc
			for q, d := range dst {
				put1(j.c, o+d, add, t[q])
			}
		}
	case cScatter:
		if rows == mr && j.g.Kernel == mr && j.rowKW[i] == 0 {
			scatterKernelRow(j, i, j0, cols, tile)
			return
		}
		// col2im: each value lands on the output pixel of its input pixel (column)
		// moved by its kernel tap (row), if that is inside. The per-row and
		// per-column tables are sliced once here so that the loop reads them
		// without bounds checks.
		colH, colW, colDst := j.colH[j0:j0+cols], j.colW[j0:j0+cols], j.colDst[j0:j0+cols]
		oh, ow, c := uint(j.oh), uint(j.ow), j.c
		for r := range rows {
			kh, kw, rd := j.rowKH[i+r], j.rowKW[i+r], j.rowDst[i+r]
			t := tile[r*nr : r*nr+cols]
			for q, v := range t {
				if uint(colH[q]+kh) < oh && uint(colW[q]+kw) < ow {
					c[colDst[q]+rd] += v
				}
			}
		}
	}
}

// scatterKernelRow is col2im for a tile whose four rows are one kernel row (taps
// j = 0…3 of one output channel and kernel row i, K = 4: DCGAN's kernel, and every
// tile of its transposed convolutions, whose rows start at multiples of 4): each
// column's four values land on four neighbouring pixels of one output row, so a
// column takes one range test and four adds to consecutive addresses instead of
// four of each through the tables. Under WebAssembly the scatter had cost more than
// the multiply-adds of the tiles it stored.
func scatterKernelRow(j *gemmJob, i, j0, cols int, tile []float32) {
	kh, rd := j.rowKH[i], j.rowDst[i]
	oh, ow, c := uint(j.oh), j.ow, j.c
	colH, colW, colDst := j.colH[j0:j0+cols], j.colW[j0:j0+cols], j.colDst[j0:j0+cols]
	t0, t1, t2, t3 := tile[:cols], tile[nr:nr+cols], tile[2*nr:2*nr+cols], tile[3*nr:3*nr+cols]
	if S := j.g.Stride; colH[cols-1] == colH[0] && colW[cols-1] == colW[0]+(cols-1)*S {
		// The panel's pixels follow each other along one input row (as in every
		// panel of DCGAN's decoder from 8×8 on, with nr = 8): one range test of the output row,
		// and the columns step S pixels on without reading the tables. (Its own
		// loop: one loop testing per column which case it is in made a training
		// step about 5 % slower under V8.)
		if uint(colH[0]+kh) >= oh {
			return
		}
		w, d := colW[0], colDst[0]+rd
		for q := range t0 {
			if w >= 0 && w+mr <= ow {
				s := c[d : d+mr : d+mr]
				s[0] += t0[q]
				s[1] += t1[q]
				s[2] += t2[q]
				s[3] += t3[q]
			} else {
				for jj, v := range [mr]float32{t0[q], t1[q], t2[q], t3[q]} {
					if uint(w+jj) < uint(ow) {
						c[d+jj] += v
					}
				}
			}
			w += S
			d += S
		}
		return
	}
	for q := range colDst {
		if uint(colH[q]+kh) >= oh {
			continue
		}
		w, d := colW[q], colDst[q]+rd
		if w >= 0 && w+mr <= ow {
			s := c[d : d+mr : d+mr]
			s[0] += t0[q]
			s[1] += t1[q]
			s[2] += t2[q]
			s[3] += t3[q]
			continue
		}
		for jj, v := range [mr]float32{t0[q], t1[q], t2[q], t3[q]} {
			if uint(w+jj) < uint(ow) {
				c[d+jj] += v
			}
		}
	}
}

// storeRow copies src into dst, or adds it, a vector at a time. (A function, not a
// method: Go 1.27.3's compiler fails on methods that use vectors, "missing Types
// entry" for the per-width copies it makes of them.)
func storeRow(dst, src []float32, add bool) {
	src = src[:len(dst)]
	q := 0
	if add {
		for ; q+vl <= len(dst); q += vl {
			simd.LoadFloat32s(dst[q:]).Add(simd.LoadFloat32s(src[q:])).Store(dst[q:])
		}
		for ; q < len(dst); q++ {
			dst[q] += src[q]
		}
	} else {
		// Not copy: under WebAssembly it calls memmove, which cost more than the
		// copy of a tile's row (5 % of a large GEMM).
		for ; q+vl <= len(dst); q += vl {
			simd.LoadFloat32s(src[q:]).Store(dst[q:])
		}
		for ; q < len(dst); q++ {
			dst[q] = src[q]
		}
	}
	zeroUpper()
}

// packATRows packs g strips of mr rows of op(A) = Aᵀ, from row i and depth pc to
// pc+kc, into dst as rows: element (i+mr·s+r, pc+p) goes to dst[s·stride + r·kc + p],
// so that each strip is four rows for vkern4N. It reads A in rows, the order in
// which it is stored.
func packATRows(dst, a []float32, lda, pc, kc, i, g, stride int) {
	for p := range kc {
		row := a[(pc+p)*lda+i : (pc+p)*lda+i+mr*g]
		o := p
		for s := range g {
			q := row[mr*s : mr*s+mr : mr*s+mr]
			dst[o] = q[0]
			dst[o+kc] = q[1]
			dst[o+2*kc] = q[2]
			dst[o+3*kc] = q[3]
			o += stride
		}
	}
}
