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
// (h, w) is tap (i, j) of window p. It gathers a into rows [r][n·P+p] and src into
// the patch matrix [n·P+p][(c,i,j)], so that the batch lies along the GEMM's k and
// even 1×1 outputs make one long product.
func weightGrad(dst, a []float32, rows int, src []float32, g Geometry, ph, pw int, accumulate bool, ws *Workspace) {
	if ws == nil {
		ws = new(Workspace)
	}
	K := g.Kernel
	P := ph * pw
	k := g.Batch * P
	cols := g.InC * K * K
	at := growBuf(&ws.gradA, rows*k)
	for n := range g.Batch {
		for r := range rows {
			copy(at[r*k+n*P:r*k+(n+1)*P], a[(n*rows+r)*P:(n*rows+r+1)*P])
		}
	}
	// The patch matrix is laid out a row per window, [k × cols], so that the GEMM
	// packs its B by copying rows; a row gathers, channel by channel and kernel row by
	// kernel row, K neighbouring input values.
	patches := growBuf(&ws.gradPatches, k*cols)
	plane := g.InH * g.InW
	row := 0
	for n := range g.Batch {
		img := src[n*g.InC*plane : (n+1)*g.InC*plane]
		for y := range ph {
			for x := range pw {
				out := patches[row*cols : (row+1)*cols]
				row++
				h0, w0 := y*g.Stride-g.Pad, x*g.Stride-g.Pad
				interior := w0 >= 0 && w0+K <= g.InW
				t := 0
				for c := range g.InC {
					chan0 := c * plane
					for i := range K {
						h := h0 + i
						if uint(h) >= uint(g.InH) {
							clear(out[t : t+K])
							t += K
							continue
						}
						line := img[chan0+h*g.InW : chan0+(h+1)*g.InW]
						if interior {
							// A loop, not copy: for K values (4 in DCGAN) a call of
							// memmove costs more than the copy, under WebAssembly
							// most (2 % of a training step).
							for jj, v := range line[w0 : w0+K] {
								out[t+jj] = v
							}
							t += K
							continue
						}
						for jj := range K {
							var v float32
							if w := w0 + jj; uint(w) < uint(len(line)) {
								v = line[w]
							}
							out[t] = v
							t++
						}
					}
				}
			}
		}
	}
	Gemm(NoTrans, NoTrans, rows, cols, k, at, k, patches, cols, accumulate, dst, cols, ws)
}

// growBuf returns n floats of the scratch buffer *b, growing it if needed.
func growBuf(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	return (*b)[:n]
}
