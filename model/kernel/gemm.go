package kernel

import "sync"

// Transpose says whether a Gemm operand is used as stored or transposed, as in
// gonum's blas.Transpose.
type Transpose byte

const (
	NoTrans Transpose = 'N' // use the matrix as stored
	Trans   Transpose = 'T' // use its transpose
)

// Register and cache blocking of the GEMM. A micro-tile is mr×nr values of C kept
// in registers (see microkernel.go); kcMax bounds the depth of one pass so that
// four rows of A (mr·kcMax·4 = 4 KiB) stay in L1 while the panels of B stream
// past; ncPanels bounds the packed block of B (kcMax·nr·ncPanels·4 = 256 KiB) to
// a share of L2.
const (
	mr       = 4
	nr       = 2
	kcMax    = 256
	ncPanels = 128
)

// minPartFlops is the least work worth a part of its own on another goroutine:
// about 0.2 ms on one core, against a few µs to hand it over and wait.
const minPartFlops = 2 << 20

// Gemm computes C = op(A)·op(B), or C += op(A)·op(B) when accumulate is true, where
// op(A) is m×k, op(B) is k×n and C is m×n. The matrices are row-major with leading
// dimensions lda, ldb and ldc: element (i, j) of A as stored is a[i*lda+j]; with
// tA == Trans the stored A is k×m and op(A) is its transpose (likewise tB). This
// is gonum's Sgemm with alpha fixed at 1 and beta at 0 or 1.
//
// Gemm is the blocked, register-tiled path behind Conv2D and ConvTranspose2D. It
// runs on several goroutines for large products on native builds (see
// parallel_other.go). ws holds the packing buffers; it may be nil (then Gemm
// allocates). C must not overlap A or B.
func Gemm(tA, tB Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int, ws *Workspace) {
	checkGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if ws == nil {
		ws = new(Workspace)
	}
	j := &ws.job
	*j = gemmJob{m: m, n: n, k: k, kcStep: kcMax,
		a: a, lda: lda, transA: tA == Trans,
		bk: bMatrix, b: b, ldb: ldb,
		ck: cMatrix, c: c, ldc: ldc, accumulate: accumulate}
	if tB == Trans {
		j.bk = bMatrixT
	}
	j.plan(ws, mr, 1, true)
	j.runParts()
	j.release()
}

// GemmRef is the reference for Gemm: the textbook triple loop, summing in float64.
// It takes the same arguments, less the workspace.
func GemmRef(tA, tB Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, accumulate bool, c []float32, ldc int) {
	checkGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	for i := range m {
		for jj := range n {
			var s float64
			for p := range k {
				var av, bv float32
				if tA == Trans {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB == Trans {
					bv = b[jj*ldb+p]
				} else {
					bv = b[p*ldb+jj]
				}
				s += float64(av) * float64(bv)
			}
			if accumulate {
				s += float64(c[i*ldc+jj])
			}
			c[i*ldc+jj] = float32(s)
		}
	}
}

func checkGemm(tA, tB Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if tA != NoTrans && tA != Trans || tB != NoTrans && tB != Trans {
		panic(badTranspose)
	}
	if m < 0 {
		panic(mLT0)
	}
	if n < 0 {
		panic(nLT0)
	}
	if k < 0 {
		panic(kLT0)
	}
	rowA, colA := m, k
	if tA == Trans {
		rowA, colA = k, m
	}
	rowB, colB := k, n
	if tB == Trans {
		rowB, colB = n, k
	}
	if lda < max(1, colA) {
		panic(badLdA)
	}
	if ldb < max(1, colB) {
		panic(badLdB)
	}
	if ldc < max(1, n) {
		panic(badLdC)
	}
	if rowA > 0 && colA > 0 && len(a) < lda*(rowA-1)+colA {
		panic(shortA)
	}
	if rowB > 0 && colB > 0 && len(b) < ldb*(rowB-1)+colB {
		panic(shortB)
	}
	if m > 0 && n > 0 && len(c) < ldc*(m-1)+n {
		panic(shortC)
	}
}

// bKind says how a gemmJob packs panels of B.
type bKind uint8

const (
	bMatrix   bKind = iota // B[p][j] = b[p*ldb+j]
	bMatrixT               // B[p][j] = b[j*ldb+p]
	bChannels              // B[p][j] = b[colSrc[j]+p*ldb]: channel p of an NCHW pixel (ConvTranspose2D, 1×1 Conv2D)
	bIm2col                // B[p][j] = im2col of an NCHW batch (Conv2D), see packIm2col
)

// cKind says how a gemmJob stores a tile of C.
type cKind uint8

const (
	cMatrix  cKind = iota // C[i][j] = c[i*ldc+j]
	cStrided              // C[i][j] = c[i*ldc+colDst[j]]: NCHW output of Conv2D with the batch in j
	cScatter              // col2im: C[i][j] is added into the output pixel it lands on (ConvTranspose2D)
)

// gemmJob is one product C (+)= A·B where B is produced panel by panel (from a
// matrix, or by im2col straight from an image batch) and C is stored through one
// of the cKind mappings. Columns of B and C are grouped in panels of nr; a panel
// is packed as kc rows of nr values, zero-filled past column n.
type gemmJob struct {
	m, n, k int
	kcStep  int // depth of one pass; Conv2D makes it a multiple of Kernel²

	a      []float32
	lda    int
	transA bool

	bk  bKind
	b   []float32
	ldb int

	ck         cKind
	c          []float32
	ldc        int
	accumulate bool // cMatrix: add into C already on the first pass

	g      Geometry // convolution geometry (bIm2col, cScatter)
	oh, ow int      // convolution output size

	// Per-column tables (length n) for the convolution packers and stores: where
	// the column's pixel starts in src, its top-left input (Conv2D) or output
	// (ConvTranspose2D) coordinate, and its offset in dst. Per-row tables (length
	// m) for the col2im scatter: the row's offset in dst and its kernel tap.
	colSrc, colH, colW, colDst []int
	rowDst, rowKH, rowKW       []int

	parts     int
	splitRows bool // parts split the rows of C (else its panels)
	align     int  // part boundaries are multiples of align rows or panels
	pack      [][]float32
	wg        sync.WaitGroup
}

// plan picks the number of parts and how to split them: by panels of columns
// when colSplit allows it and there are enough (no packing is repeated), else by
// rows of C. Then it sizes the packing buffers.
func (j *gemmJob) plan(ws *Workspace, rowAlign, colAlign int, colSplit bool) {
	panels := (j.n + nr - 1) / nr
	parts := min(maxParts(), 2*j.m*j.n*j.k/minPartFlops)
	j.parts = 1
	if parts > 1 {
		colUnits := panels / colAlign
		rowUnits := j.m / rowAlign
		switch {
		case colSplit && colUnits >= parts:
			j.parts, j.align = parts, colAlign
		case rowUnits >= 2:
			j.parts, j.splitRows, j.align = min(parts, rowUnits), true, rowAlign
		case colSplit && colUnits >= 2:
			j.parts, j.align = min(parts, colUnits), colAlign
		}
	}
	most := panels
	if j.parts > 1 && !j.splitRows {
		most = (panels/j.align + j.parts - 1) / j.parts * j.align
		most = min(most+j.align, panels) // span's rounding can give one unit more
	}
	j.pack = ws.packBuffers(j.parts, min(j.kcStep, j.k)*nr*min(ncPanels, most))
}

// release drops the job's references to the caller's slices.
func (j *gemmJob) release() {
	j.a, j.b, j.c = nil, nil, nil
}

// run computes the share of part of the job.
func (j *gemmJob) run(part int) {
	panels := (j.n + nr - 1) / nr
	r0, r1, p0, p1 := 0, j.m, 0, panels
	if j.parts > 1 {
		if j.splitRows {
			r0, r1 = span(j.m, j.align, part, j.parts)
		} else {
			p0, p1 = span(panels, j.align, part, j.parts)
		}
	}
	if r0 < r1 && p0 < p1 {
		j.compute(j.pack[part], r0, r1, p0, p1)
	}
}

// span splits [0, total) into parts pieces starting at multiples of align.
func span(total, align, part, parts int) (lo, hi int) {
	units := (total + align - 1) / align
	lo = min(units*part/parts*align, total)
	hi = min(units*(part+1)/parts*align, total)
	return lo, hi
}

// compute does rows [r0, r1) × panels [p0, p1) of C: for each block of panels and
// each pass of depth kc, pack that block of B once, then run the micro-kernel over
// every 4-row strip of A (which stays in L1) against every packed panel.
func (j *gemmJob) compute(buf []float32, r0, r1, p0, p1 int) {
	for jb := p0; jb < p1; jb += ncPanels {
		je := min(jb+ncPanels, p1)
		for pc := 0; pc < j.k; pc += j.kcStep {
			kc := min(j.kcStep, j.k-pc)
			bb := buf[:(je-jb)*kc*nr]
			j.packB(bb, pc, kc, jb, je)
			j.block(bb, pc, kc, r0, r1, jb, je, pc > 0 || j.accumulate)
		}
	}
}

// block multiplies rows [r0, r1) and columns [pc, pc+kc) of A by the packed block
// bb (panels jb..je), and stores (add: adds) the tiles into C.
func (j *gemmJob) block(bb []float32, pc, kc, r0, r1, jb, je int, add bool) {
	a, lda := j.a, j.lda
	panel := kc * nr
	i := r0
	for ; i+mr <= r1; i += mr {
		if j.transA {
			at := a[pc*lda+i:]
			for jp := jb; jp < je; jp++ {
				bp := bb[(jp-jb)*panel : (jp-jb+1)*panel]
				c00, c01, c10, c11, c20, c21, c30, c31 := kern4x2T(kc, at, lda, bp)
				j.store4(i, jp, add, c00, c01, c10, c11, c20, c21, c30, c31)
			}
			continue
		}
		// Hoist the four row slices out of the panel loop.
		o := i*lda + pc
		a0 := a[o : o+kc]
		a1 := a[o+lda : o+lda+kc]
		a2 := a[o+2*lda : o+2*lda+kc]
		a3 := a[o+3*lda : o+3*lda+kc]
		for jp := jb; jp < je; jp++ {
			bp := bb[(jp-jb)*panel : (jp-jb+1)*panel]
			c00, c01, c10, c11, c20, c21, c30, c31 := kern4x2N(a0, a1, a2, a3, bp)
			j.store4(i, jp, add, c00, c01, c10, c11, c20, c21, c30, c31)
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

func put1(c []float32, o int, add bool, v float32) {
	if add {
		c[o] += v
	} else {
		c[o] = v
	}
}

// scatter adds v, the contribution of kernel row r (an output channel and tap)
// and input pixel col, into the output pixel it lands on, if that is inside.
func (j *gemmJob) scatter(r, col int, v float32) {
	h := j.colH[col] + j.rowKH[r]
	w := j.colW[col] + j.rowKW[r]
	if uint(h) < uint(j.oh) && uint(w) < uint(j.ow) {
		j.c[j.colDst[col]+j.rowDst[r]] += v
	}
}

// packB packs rows [pc, pc+kc) of panels [jb, je) of B into bb.
func (j *gemmJob) packB(bb []float32, pc, kc, jb, je int) {
	switch j.bk {
	case bMatrix:
		j.packMatrix(bb, pc, kc, jb, je)
	case bMatrixT:
		j.packMatrixT(bb, pc, kc, jb, je)
	case bChannels:
		j.packChannels(bb, pc, kc, jb, je)
	case bIm2col:
		j.packIm2col(bb, pc, kc, jb, je)
	}
}

func (j *gemmJob) packMatrix(bb []float32, pc, kc, jb, je int) {
	b, ldb := j.b, j.ldb
	for jp := jb; jp < je; jp++ {
		out := bb[(jp-jb)*kc*nr : (jp-jb+1)*kc*nr]
		j0 := jp * nr
		o := pc*ldb + j0
		if j0+1 < j.n {
			for p := 0; p < kc; p++ {
				row := b[o : o+2 : o+2]
				out[2*p] = row[0]
				out[2*p+1] = row[1]
				o += ldb
			}
			continue
		}
		for p := 0; p < kc; p++ {
			out[2*p] = b[o]
			out[2*p+1] = 0
			o += ldb
		}
	}
}

func (j *gemmJob) packMatrixT(bb []float32, pc, kc, jb, je int) {
	b, ldb := j.b, j.ldb
	for jp := jb; jp < je; jp++ {
		out := bb[(jp-jb)*kc*nr : (jp-jb+1)*kc*nr]
		j0 := jp * nr
		r0 := b[j0*ldb+pc : j0*ldb+pc+kc]
		if j0+1 < j.n {
			r1 := b[(j0+1)*ldb+pc : (j0+1)*ldb+pc+kc]
			for p, v := range r0 {
				out[2*p] = v
				out[2*p+1] = r1[p]
			}
			continue
		}
		for p, v := range r0 {
			out[2*p] = v
			out[2*p+1] = 0
		}
	}
}

// packChannels packs B[p][j] = b[colSrc[j]+p*ldb]: column j is one pixel of an
// NCHW batch, row p its channel (ldb is the channel stride H·W).
func (j *gemmJob) packChannels(bb []float32, pc, kc, jb, je int) {
	b, ldb := j.b, j.ldb
	for jp := jb; jp < je; jp++ {
		out := bb[(jp-jb)*kc*nr : (jp-jb+1)*kc*nr]
		for q := range nr {
			col := jp*nr + q
			if col >= j.n {
				for t := q; t < len(out); t += nr {
					out[t] = 0
				}
				continue
			}
			o := j.colSrc[col] + pc*ldb
			for t := q; t < len(out); t += nr {
				out[t] = b[o]
				o += ldb
			}
		}
	}
}
