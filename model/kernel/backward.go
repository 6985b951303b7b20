package kernel

// Backward passes of the convolutions, for training. A convolution is linear in
// its input and in its weight, so each gradient is itself a convolution or a
// GEMM over the same packed paths as the forward kernels:
//
//   - the gradient of Conv2D with respect to its input is ConvTranspose2D of the
//     output gradient by the same weight, and that of ConvTranspose2D is Conv2D;
//   - the weight gradients are one GEMM each, the output gradient (or the input)
//     with the batch laid along k, times the transposed im2col of the other.

// Conv2DBackwardData computes dx = ∂L/∂x from dy = ∂L/∂y for y = Conv2D(x,
// weight) with geometry g:
//
//	dx[n][c][h][w] = Σ_{o,i,j} weight[o][c][i][j] · dy[n][o][y][x]  where h = y·S−P+i, w = x·S−P+j
//
// dx is [Batch, InC, InH, InW] and is overwritten; dy is [Batch, OutC, OH, OW].
// The geometry must be exact: every input row and column is reached by some
// window, (OH−1)·S−2P+K == InH (likewise W), as in every layer of GANomaly;
// otherwise it panics.
func Conv2DBackwardData(dx, dy, weight []float32, g Geometry, ws *Workspace) {
	oh, ow := g.checkConv(dy, dx, weight)
	t := Geometry{Batch: g.Batch, InC: g.OutC, InH: oh, InW: ow, OutC: g.InC, Kernel: g.Kernel, Stride: g.Stride, Pad: g.Pad}
	if h, w := t.ConvTransposeOut(); h != g.InH || w != g.InW {
		panic(inexactGeometry)
	}
	ConvTranspose2D(dx, dy, weight, t, ws)
}

// ConvTranspose2DBackwardData computes dx = ∂L/∂x from dy = ∂L/∂y for y =
// ConvTranspose2D(x, weight) with geometry g: Conv2D of dy by the same weight,
// read as [InC, OutC, K, K] = Conv2D's [out, in, K, K]. dx is [Batch, InC, InH,
// InW] and is overwritten.
func ConvTranspose2DBackwardData(dx, dy, weight []float32, g Geometry, ws *Workspace) {
	oh, ow := g.checkConvTranspose(dy, dx, weight)
	Conv2D(dx, dy, weight, Geometry{Batch: g.Batch, InC: g.OutC, InH: oh, InW: ow, OutC: g.InC, Kernel: g.Kernel, Stride: g.Stride, Pad: g.Pad}, ws)
}

// Conv2DBackwardWeight computes the weight gradient of y = Conv2D(x, weight):
//
//	dw[o][c][i][j] = Σ_{n,y,x} dy[n][o][y][x] · x[n][c][y·S−P+i][x·S−P+j]
//
// into dw [OutC, InC, K, K], overwritten, or added to when accumulate is true
// (for a network run twice in one step, as GANomaly's discriminator is).
func Conv2DBackwardWeight(dw, x, dy []float32, g Geometry, accumulate bool, ws *Workspace) {
	oh, ow := g.checkConv(dy, x, dw)
	weightGrad(dw, dy, g.OutC, x, g, oh, ow, accumulate, ws)
}

// ConvTranspose2DBackwardWeight computes the weight gradient of y =
// ConvTranspose2D(x, weight):
//
//	dw[c][o][i][j] = Σ_{n,y,x} x[n][c][y][x] · dy[n][o][y·S−P+i][x·S−P+j]
//
// into dw [InC, OutC, K, K], overwritten or added to as for Conv2DBackwardWeight.
// It is Conv2DBackwardWeight's sum with the roles of x and dy exchanged: the
// windows run over dy, with the convolution geometry that maps dy back to x's size.
func ConvTranspose2DBackwardWeight(dw, x, dy []float32, g Geometry, accumulate bool, ws *Workspace) {
	oh, ow := g.checkConvTranspose(dy, x, dw)
	over := Geometry{Batch: g.Batch, InC: g.OutC, InH: oh, InW: ow, OutC: g.InC, Kernel: g.Kernel, Stride: g.Stride, Pad: g.Pad}
	weightGrad(dw, x, g.InC, dy, over, g.InH, g.InW, accumulate, ws)
}

// weightGrad computes dst[r][(c·K+i)·K+j] (+)= Σ_{n,p} a[n][r][p] · src[n][c][h][w]
// where p runs over the ph×pw windows of the convolution geometry g over src and
// (h, w) is tap (i, j) of window p. It is one GEMM with the batch along k, so that
// even 1×1 outputs make one long product: A is a in rows [r][n·P+p], B the patch
// matrix [n·P+p][(c,i,j)], a row per window, which the GEMM packs panel by panel
// straight from src (packPatches) and never stores whole.
func weightGrad(dst, a []float32, rows int, src []float32, g Geometry, ph, pw int, accumulate bool, ws *Workspace) {
	if ws == nil {
		ws = new(Workspace)
	}
	P := ph * pw
	k := g.Batch * P
	j := &ws.job
	*j = gemmJob{m: rows, n: g.InC * g.Kernel * g.Kernel, k: k, kcStep: kcMax,
		a: a, lda: rows, transA: true,
		bk: bPatches, b: src,
		g: g, oh: ph, ow: pw}
	j.ck, j.c, j.ldc, j.accumulate = cMatrix, dst, j.n, accumulate
	switch {
	case P == 1:
		// With one window per image a is [n][r], Aᵀ as stored.
	case g.Batch == 1:
		// One image: a is [r][p], A as stored.
		j.lda, j.transA = P, false
	default:
		// Gather A's rows.
		at := growBuf(&ws.gradA, rows*k)
		for n := range g.Batch {
			for r := range rows {
				copy(at[r*k+n*P:r*k+(n+1)*P], a[(n*rows+r)*P:(n*rows+r+1)*P])
			}
		}
		j.a, j.lda, j.transA = at, k, false
	}
	j.plan(ws, mr, 1, true)
	j.runParts()
	j.release()
}

// packPatches packs rows [pc, pc+kc) of panels [jb, je) of weightGrad's patch
// matrix: row p is window (n, y, x) of the geometry j.g over the NCHW batch j.b
// (j.oh×j.ow windows per image), column (c·K+i)·K+j its tap (i, j) in channel c.
// A panel's nr columns are runs of neighbouring taps along kernel rows; a run is
// packed down the rows, a stretch of windows on one image row at a time, so that
// the inner loop copies from one input row at a steady stride.
func (j *gemmJob) packPatches(bb []float32, pc, kc, jb, je int) {
	g := j.g
	K, S, inH, inW := g.Kernel, g.Stride, g.InH, g.InW
	plane := inH * inW
	image := g.InC * plane
	windows := j.oh * j.ow
	n0, y0, x0 := pc/windows, pc%windows/j.ow, pc%j.ow // the pass's first window
	for jp := jb; jp < je; jp++ {
		out := bb[(jp-jb)*kc*nr : (jp-jb+1)*kc*nr]
		col0 := jp * nr
		cols := min(nr, j.n-col0)
		for q := 0; q < cols; {
			// The run: columns [q, q+l) are taps (i, jj..jj+l) of channel c.
			col := col0 + q
			kr, jj := col/K, col%K
			l := min(K-jj, cols-q)
			c, i := kr/K, kr%K
			n, y, x := n0, y0, x0
			t := q // out[t : t+l] is the run in row p
			for p := 0; p < kc; {
				stretch := min(j.ow-x, kc-p) // windows left on this image row
				h := y*S - g.Pad + i
				if uint(h) >= uint(inH) {
					for range stretch {
						for z := range l {
							out[t+z] = 0
						}
						t += nr
					}
				} else {
					line := j.b[n*image+c*plane+h*inW : n*image+c*plane+(h+1)*inW]
					w := x*S - g.Pad + jj
					for range stretch {
						d := out[t : t+l : t+l]
						if w >= 0 && w+l <= inW && l == 4 {
							// DCGAN's 4×4 kernels: four assignments from a
							// slice whose length drops the bounds checks; under
							// WebAssembly a copy calls memmove, which costs more.
							v := line[w : w+4 : w+4]
							d[0], d[1], d[2], d[3] = v[0], v[1], v[2], v[3]
						} else {
							for z := range d {
								var v float32
								if uint(w+z) < uint(inW) {
									v = line[w+z]
								}
								d[z] = v
							}
						}
						w += S
						t += nr
					}
				}
				p += stretch
				if x += stretch; x == j.ow {
					if x, y = 0, y+1; y == j.oh {
						y, n = 0, n+1
					}
				}
			}
			q += l
		}
		clearColumns(out, cols)
	}
}

// growBuf returns n floats of the scratch buffer *b, growing it if needed.
func growBuf(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	return (*b)[:n]
}
