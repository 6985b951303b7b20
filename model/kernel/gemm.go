package kernel

import (
	"sync"
	"sync/atomic"
)

// Transpose says whether a Gemm operand is used as stored or transposed, as in
// gonum's blas.Transpose.
type Transpose byte

const (
	NoTrans Transpose = 'N' // use the matrix as stored
	Trans   Transpose = 'T' // use its transpose
)

// Register and cache blocking of the GEMM. A micro-tile is mr×nr values of C kept
// in registers (see microkernel_scalar.go); kcMax bounds the depth of one pass so that
// four rows of A (mr·kcMax·4 = 4 KiB) stay in L1 while the panels of B stream
// past; ncPanels bounds the packed block of B (kcMax·nr·ncPanels·4 = 256 KiB with
// the scalar tile) to a share of L2.
const (
	mr       = 4
	kcMax    = 256
	ncPanels = 128
)

// nr, the width of a micro-tile and of a packed panel of B, depends on the build:
// 2 with the scalar micro-kernels (tile_scalar.go), two SIMD vectors with the
// vector ones (tile_simd.go, GOEXPERIMENT=simd).

// A is packed stripGroup strips of mr rows at a time; packed strips lie stripPad
// floats further apart than their length so that they do not all map to the same
// L1 sets (a strip of 4·256 floats is exactly 4 KiB).
const (
	stripGroup = 16
	stripPad   = 16
)

// Splitting a job across goroutines (native builds only, see parallel_other.go).
// Each goroutine must get at least minPartFlops, about 0.2 ms on one core against
// a few µs to hand work over and wait. The job is cut into chunksPerPart chunks
// per goroutine, claimed one at a time, so that a goroutine whose core is busy
// with another process takes fewer chunks instead of holding the others up. A
// column chunk should span at least minChunkColumns units (panels or images) so
// that the strips of A it loads are reused; with fewer columns the rows are split
// instead, over a B packed once, beforehand, if it is at most prepackMax floats.
const (
	minPartFlops    = 2 << 20
	chunksPerPart   = 4
	minChunkColumns = 8
	prepackMax      = 1 << 20
)

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
	bPatches               // B[p][j] = tap j of window p over an NCHW batch (weight gradients), see packPatches
	bPhases                // bIm2col from the input split by phase, see packIm2colPhases
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

	g      Geometry // convolution geometry (bIm2col, bPatches, bPhases, cScatter)
	oh, ow int      // convolution output size (bPatches: the windows over src)

	phases              []float32 // bPhases: the input split by phase (splitPhases)
	phaseLen, phaseLeft int       // bPhases: a phase row's length, and where its values start

	// Per-column tables (length n) for the convolution packers and stores: where
	// the column's pixel starts in src, its top-left input (Conv2D) or output
	// (ConvTranspose2D) coordinate, and its offset in dst. Per-row tables (length
	// m) for the col2im scatter: the row's offset in dst and its kernel tap.
	colSrc, colH, colW, colDst []int
	rowDst, rowKH, rowKW       []int

	parts     int          // goroutines taking part, the caller's included
	chunks    int          // pieces of work they claim in turn
	next      atomic.Int32 // the next chunk to claim
	splitRows bool         // chunks split the rows of C (else its panels)
	align     int          // chunk boundaries are multiples of align rows or panels
	prepacked []float32    // all of B, packed before the split (else nil)
	pack      [][]float32  // per part: packed panels of B
	packA     [][]float32  // per part: A packed in strips (packAN, packAT, packATRows)
	strips    *Strips      // A packed beforehand (Conv2DPacked, ConvTranspose2DT), or nil
	wg        sync.WaitGroup
}

// plan decides how to split the job: serially below minPartFlops per part; else
// by panels of columns when colSplit allows it and there are enough (nothing is
// packed twice), else by rows of C, which share a B packed once beforehand. Then
// it sizes the packing buffers. rowAlign and colAlign keep chunks from adding
// into the same elements of C (see ConvTranspose2D).
func (j *gemmJob) plan(ws *Workspace, rowAlign, colAlign int, colSplit bool) {
	panels := (j.n + nr - 1) / nr
	flops := 2 * float64(j.m) * float64(j.n) * float64(j.k) // float: m·n·k can overflow a 32-bit int
	parts := int(min(float64(maxParts()), flops/minPartFlops))
	j.parts, j.chunks, j.splitRows, j.align, j.prepacked = 1, 1, false, 1, nil
	if parts > 1 {
		target := chunksPerPart * parts
		colUnits := panels / colAlign
		rowUnits := j.m / rowAlign
		switch {
		case colSplit && colUnits >= minChunkColumns*target:
			j.chunks, j.align = target, colAlign
		case rowUnits >= 2:
			j.chunks, j.align, j.splitRows = min(target, rowUnits), rowAlign, true
		case colSplit && colUnits >= 2:
			j.chunks, j.align = min(target, colUnits), colAlign
		}
		j.parts = min(parts, j.chunks)
	}
	kc := min(j.kcStep, j.k)
	cols := panels
	if !j.splitRows {
		units := (panels + j.align - 1) / j.align // as in span
		cols = min((units+j.chunks-1)/j.chunks*j.align, panels)
	}
	if j.transA || packStrips {
		j.packA = grow(&ws.packA, j.parts, stripGroup*(mr*kc+stripPad))
	}
	if j.splitRows && j.n != 1 && j.k*nr*panels <= prepackMax {
		// Pack all of B now, block after block: pass pc of depth kc starts at
		// pc·nr·panels and holds panels of kc·nr values (see compute).
		all := grow(&ws.pack, 1, j.k*nr*panels)[0]
		for pc := 0; pc < j.k; pc += j.kcStep {
			kc := min(j.kcStep, j.k-pc)
			j.packB(all[pc*nr*panels:(pc+kc)*nr*panels], pc, kc, 0, panels)
		}
		j.prepacked, j.pack = all, nil
		return
	}
	j.pack = grow(&ws.pack, j.parts, kc*nr*min(ncPanels, cols))
}

// release drops the job's references to the caller's slices.
func (j *gemmJob) release() {
	j.a, j.b, j.c, j.prepacked, j.phases = nil, nil, nil, nil, nil
}

// work claims chunks of the job until none are left, computing them with the
// buffers of part.
func (j *gemmJob) work(part int) {
	var bbuf, abuf []float32
	if j.prepacked == nil {
		bbuf = j.pack[part]
	}
	if j.transA || packStrips {
		abuf = j.packA[part]
	}
	panels := (j.n + nr - 1) / nr
	for {
		c := int(j.next.Add(1)) - 1
		if c >= j.chunks {
			return
		}
		r0, r1, p0, p1 := 0, j.m, 0, panels
		if j.splitRows {
			r0, r1 = span(j.m, j.align, c, j.chunks)
		} else {
			p0, p1 = span(panels, j.align, c, j.chunks)
		}
		if r0 < r1 && p0 < p1 {
			j.compute(bbuf, abuf, r0, r1, p0, p1)
		}
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
// every 4-row strip of A (which stays in L1) against every packed panel. (When B
// was packed beforehand, take the block from there.)
func (j *gemmJob) compute(buf, abuf []float32, r0, r1, p0, p1 int) {
	if j.n == 1 && j.transA {
		j.gemvT(buf, abuf, r0, r1)
		return
	}
	if j.n == 1 {
		j.gemvN(buf, r0, r1)
		return
	}
	for jb := p0; jb < p1; jb += ncPanels {
		je := min(jb+ncPanels, p1)
		for pc := 0; pc < j.k; pc += j.kcStep {
			kc := min(j.kcStep, j.k-pc)
			var bb []float32
			if j.prepacked != nil {
				panels := (j.n + nr - 1) / nr
				bb = j.prepacked[pc*nr*panels+jb*kc*nr : pc*nr*panels+je*kc*nr]
			} else {
				bb = buf[:(je-jb)*kc*nr]
				j.packB(bb, pc, kc, jb, je)
			}
			j.block(bb, abuf, pc, kc, r0, r1, jb, je, pc > 0 || j.accumulate)
		}
	}
}

// gemvT computes rows [r0, r1) of the matrix-vector product Aᵀ·b (n = 1 with a
// transposed A: a 1×1 input to ConvTranspose2D at batch 1) in chunks of
// len(ybuf) rows. Packing strips of A would cost as much as the product, which
// uses each element of A once; instead it reads A in stored order, four rows at a
// time, into a chunk of y that stays in L1.
func (j *gemmJob) gemvT(buf, ybuf []float32, r0, r1 int) {
	a, lda := j.a, j.lda
	for c0 := r0; c0 < r1; c0 += len(ybuf) {
		y := ybuf[:min(len(ybuf), r1-c0)]
		clear(y)
		for pc := 0; pc < j.k; pc += j.kcStep {
			kc := min(j.kcStep, j.k-pc)
			x := buf[:kc*nr]
			j.packB(x, pc, kc, 0, 1) // the vector, at x[nr·p]
			p := 0
			for ; p+3 < kc; p += 4 {
				o := (pc+p)*lda + c0
				axpy4(y, a[o:], a[o+lda:], a[o+2*lda:], a[o+3*lda:], x[nr*p], x[nr*(p+1)], x[nr*(p+2)], x[nr*(p+3)])
			}
			for ; p < kc; p++ {
				o := (pc+p)*lda + c0
				axpy1(y, a[o:], x[nr*p])
			}
		}
		for i, v := range y {
			j.put(c0+i, 0, j.accumulate, v)
		}
	}
}

// gemvN computes rows [r0, r1) of the matrix-vector product A·b (n = 1 with A as
// stored: a convolution with one output pixel, as the encoders' last layer at batch
// 1). The tiles would multiply panels of nr columns of which nr−1 are padding, and
// that layer took 8 times its work (a tenth of the generator at width 64, batch 1,
// under WebAssembly); here each row of A is one dot product with the vector, which
// is packed like a panel and then gathered into its first kc values.
func (j *gemmJob) gemvN(buf []float32, r0, r1 int) {
	a, lda := j.a, j.lda
	for pc := 0; pc < j.k; pc += j.kcStep {
		kc := min(j.kcStep, j.k-pc)
		x := buf[:kc*nr]
		j.packB(x, pc, kc, 0, 1) // the vector, at x[nr·p]
		// In place: x[p] is written after x[nr·p], and read before x[p·nr] is.
		for p := 1; p < kc; p++ {
			x[p] = x[nr*p]
		}
		x = x[:kc]
		add := j.accumulate || pc > 0
		for i := r0; i < r1; i++ {
			o := i*lda + pc
			j.put(i, 0, add, dotRow(a[o:o+kc], x))
		}
	}
}

// axpy4 adds x0·w0 + x1·w1 + x2·w2 + x3·w3 to y; the rows may be longer than y.
func axpy4(y, w0, w1, w2, w3 []float32, x0, x1, x2, x3 float32) {
	// Re-slicing to len(y) lets the compiler drop the bounds checks in the loop.
	w0, w1, w2, w3 = w0[:len(y)], w1[:len(y)], w2[:len(y)], w3[:len(y)]
	for i := range y {
		y[i] += x0*w0[i] + x1*w1[i] + x2*w2[i] + x3*w3[i]
	}
}

// axpy1 adds x0·w0 to y; w0 may be longer than y.
func axpy1(y, w0 []float32, x0 float32) {
	w0 = w0[:len(y)]
	for i := range y {
		y[i] += x0 * w0[i]
	}
}

// put stores (or adds) one element of C, through the job's mapping. It serves the
// rare paths (gemvT); tiles go through the build's own stores.
func (j *gemmJob) put(i, col int, add bool, v float32) {
	switch j.ck {
	case cMatrix:
		put1(j.c, i*j.ldc+col, add, v)
	case cStrided:
		put1(j.c, i*j.ldc+j.colDst[col], add, v)
	case cScatter:
		j.scatter(i, col, v)
	}
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

// clearColumns zeroes the columns of a packed panel (rows of nr values) from cols
// on: those past the matrix's last column.
func clearColumns(out []float32, cols int) {
	for q := cols; q < nr; q++ {
		for t := q; t < len(out); t += nr {
			out[t] = 0
		}
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
	case bPatches:
		j.packPatches(bb, pc, kc, jb, je)
	case bPhases:
		j.packIm2colPhases(bb, pc, kc, jb, je)
	}
}

func (j *gemmJob) packMatrix(bb []float32, pc, kc, jb, je int) {
	b, ldb := j.b, j.ldb
	for jp := jb; jp < je; jp++ {
		out := bb[(jp-jb)*kc*nr : (jp-jb+1)*kc*nr]
		j0 := jp * nr
		w := min(nr, j.n-j0) // columns of this panel; the rest are zeros
		o := pc*ldb + j0
		for p := 0; p < kc; p++ {
			dst := out[p*nr : p*nr+nr]
			copy(dst, b[o:o+w])
			clear(dst[w:])
			o += ldb
		}
	}
}

func (j *gemmJob) packMatrixT(bb []float32, pc, kc, jb, je int) {
	b, ldb := j.b, j.ldb
	for jp := jb; jp < je; jp++ {
		out := bb[(jp-jb)*kc*nr : (jp-jb+1)*kc*nr]
		j0 := jp * nr
		for q := range nr {
			if j0+q >= j.n {
				for t := q; t < len(out); t += nr {
					out[t] = 0
				}
				continue
			}
			t := q
			for _, v := range b[(j0+q)*ldb+pc : (j0+q)*ldb+pc+kc] {
				out[t] = v
				t += nr
			}
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
