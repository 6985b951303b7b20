package kernel

// ConvTranspose2D computes the transposed convolution (the gradient of Conv2D
// with respect to its input, PyTorch's ConvTranspose2d without output padding):
// every input pixel scatters weight-scaled copies of the kernel into dst,
//
//	dst[n][o][y·S−P+i][x·S−P+j] += src[n][c][y][x] · weight[c][o][i][j]
//
// keeping only what lands inside. weight is [InC, OutC, K, K] (PyTorch's layout
// for ConvTranspose2d); dst is [Batch, OutC, OH, OW] with OH, OW from
// g.ConvTransposeOut, and is overwritten. dst must not overlap src or weight.
//
// It is a GEMM, cols = Wᵀ[OutC·K² × InC] · x[InC × Batch·IH·IW], whose tiles are
// added into dst as they leave the registers (col2im fused into the GEMM's
// store), so the column matrix is never stored.
func ConvTranspose2D(dst, src, weight []float32, g Geometry, ws *Workspace) {
	convTranspose2D(dst, src, weight, nil, nil, g, ws)
}

// TransposeWeight writes the ConvTranspose2D weight [InC, OutC, K, K] into dst as
// the matrix Wᵀ [OutC·K·K, InC] that the GEMM multiplies: row (o·K+i)·K+j holds
// weight[c][o][i][j] for every c. dst has g.weightLen() values.
func TransposeWeight(dst, weight []float32, g Geometry) {
	n := g.weightLen()
	if len(weight) < n {
		panic(shortWeight)
	}
	if len(dst) < n {
		panic(shortDst)
	}
	rows := g.OutC * g.Kernel * g.Kernel
	for c := range g.InC {
		for r, v := range weight[c*rows : (c+1)*rows] {
			dst[r*g.InC+c] = v
		}
	}
}

// ConvTranspose2DT is ConvTranspose2D given the weight twice: as stored and as
// TransposeWeight wrote it. Model code that runs the same weights many times
// transposes them once, at load, and this spares packing them at every call (about
// a tenth of a generator's time at batch 1 under WebAssembly). The stored form
// still serves inputs of a single pixel, which the GEMM reads best that way.
// strips, from PackConvTranspose2DWeight(weightT, g), may be nil.
func ConvTranspose2DT(dst, src, weight, weightT []float32, strips *Strips, g Geometry, ws *Workspace) {
	if len(weightT) < g.weightLen() {
		panic(shortWeight)
	}
	convTranspose2D(dst, src, weight, weightT, strips, g, ws)
}

func convTranspose2D(dst, src, weight, weightT []float32, strips *Strips, g Geometry, ws *Workspace) {
	oh, ow := g.checkConvTranspose(dst, src, weight)
	if ws == nil {
		ws = new(Workspace)
	}
	kk := g.Kernel * g.Kernel
	inHW := g.InH * g.InW
	outImage := g.OutC * oh * ow
	clear(dst[:g.Batch*outImage])
	j := &ws.job
	*j = gemmJob{m: g.OutC * kk, n: g.Batch * inHW, k: g.InC, kcStep: kcMax,
		a: weight, lda: g.OutC * kk, transA: true,
		bk: bChannels, b: src, ldb: inHW,
		ck: cScatter, c: dst,
		g: g, oh: oh, ow: ow}
	if weightT != nil && j.n > 1 {
		j.a, j.lda, j.transA = weightT, g.InC, false
		if strips.fits(j.m, j.k, j.kcStep) {
			j.strips = strips
		}
	}

	n, m := j.n, j.m
	t := ws.intBuf(4*n + 3*m)
	j.colSrc, j.colH, j.colW, j.colDst = t[:n], t[n:2*n], t[2*n:3*n], t[3*n:4*n]
	j.rowDst, j.rowKH, j.rowKW = t[4*n:4*n+m], t[4*n+m:4*n+2*m], t[4*n+2*m:]
	col := 0
	for b := range g.Batch {
		for y := range g.InH {
			for x := range g.InW {
				h, w := y*g.Stride-g.Pad, x*g.Stride-g.Pad
				j.colSrc[col] = b*g.InC*inHW + y*g.InW + x
				j.colH[col], j.colW[col] = h, w
				j.colDst[col] = b*outImage + h*ow + w
				col++
			}
		}
	}
	r := 0
	for o := range g.OutC {
		for i := range g.Kernel {
			for jj := range g.Kernel {
				j.rowDst[r] = o*oh*ow + i*ow + jj
				j.rowKH[r], j.rowKW[r] = i, jj
				r++
			}
		}
	}
	// Parts must not add into the same output pixel: split columns only at image
	// boundaries, rows only at output-channel boundaries.
	colAlign, colSplit := 1, true
	switch {
	case inHW == 1:
	case inHW%nr == 0:
		colAlign = inHW / nr
	default:
		colSplit = false
	}
	j.plan(ws, lcm(kk, mr), colAlign, colSplit)
	j.runParts()
	j.release()
}

func lcm(a, b int) int {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return a / x * b
}

// ConvTranspose2DRef is the reference for ConvTranspose2D: the naive scatter,
// summing in float32 in dst.
func ConvTranspose2DRef(dst, src, weight []float32, g Geometry) {
	oh, ow := g.checkConvTranspose(dst, src, weight)
	K := g.Kernel
	clear(dst[:g.Batch*g.OutC*oh*ow])
	for n := range g.Batch {
		for c := range g.InC {
			for y := range g.InH {
				for x := range g.InW {
					v := src[((n*g.InC+c)*g.InH+y)*g.InW+x]
					for o := range g.OutC {
						for i := range K {
							for jj := range K {
								h := y*g.Stride - g.Pad + i
								w := x*g.Stride - g.Pad + jj
								if h < 0 || h >= oh || w < 0 || w >= ow {
									continue
								}
								dst[((n*g.OutC+o)*oh+h)*ow+w] += v * weight[((c*g.OutC+o)*K+i)*K+jj]
							}
						}
					}
				}
			}
		}
	}
}
