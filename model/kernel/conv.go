package kernel

// Conv2D computes the convolution of the NCHW batch src with weight into dst:
//
//	dst[n][o][y][x] = Σ_{c,i,j} weight[o][c][i][j] · src[n][c][y·S−P+i][x·S−P+j]
//
// with zeros outside the input. weight is [OutC, InC, K, K] (PyTorch's Conv2d
// layout); dst is [Batch, OutC, OH, OW] with OH, OW from g.ConvOut, and is
// overwritten. dst must not overlap src or weight.
//
// It is a GEMM, weight[OutC × InC·K²] · cols[InC·K² × Batch·OH·OW], whose columns
// are packed by im2col straight from src panel by panel: the patch matrix is never
// stored whole, and the batch lies along the GEMM's n so that the small late
// layers (4×4 and 1×1 outputs) still fill the register tile.
func Conv2D(dst, src, weight []float32, g Geometry, ws *Workspace) {
	Conv2DPacked(dst, src, weight, nil, g, ws)
}

// conv2DKCStep is the depth of a Conv2D's GEMM passes: whole channels per pass (see
// packIm2col).
func conv2DKCStep(kk int) int { return max(1, kcMax/kk) * kk }

// Conv2DPacked is Conv2D with the weight also packed by PackConv2DWeight (nil for
// none): model code that runs the same weights many times packs them at load.
func Conv2DPacked(dst, src, weight []float32, strips *Strips, g Geometry, ws *Workspace) {
	oh, ow := g.checkConv(dst, src, weight)
	if ws == nil {
		ws = new(Workspace)
	}
	kk := g.Kernel * g.Kernel
	hw := oh * ow
	j := &ws.job
	*j = gemmJob{m: g.OutC, n: g.Batch * hw, k: g.InC * kk,
		kcStep: conv2DKCStep(kk),
		a:      weight, lda: g.InC * kk,
		bk: bIm2col, b: src,
		ck: cStrided, c: dst, ldc: hw,
		g: g, oh: oh, ow: ow}

	t := ws.intBuf(4 * j.n)
	j.colSrc, j.colH, j.colW, j.colDst = t[:j.n], t[j.n:2*j.n], t[2*j.n:3*j.n], t[3*j.n:]
	inImage := g.InC * g.InH * g.InW
	col := 0
	for b := range g.Batch {
		for y := range oh {
			for x := range ow {
				j.colSrc[col] = b * inImage
				j.colH[col] = y*g.Stride - g.Pad
				j.colW[col] = x*g.Stride - g.Pad
				j.colDst[col] = b*g.OutC*hw + y*ow + x
				col++
			}
		}
	}
	if g.Kernel == 1 && g.Stride == 1 && g.Pad == 0 {
		// A 1×1 convolution needs no im2col: row p of B is channel p.
		j.bk, j.ldb = bChannels, g.InH*g.InW
		for col := range j.n {
			j.colSrc[col] += j.colDst[col] % hw
		}
	}
	if strips.fits(j.m, j.k, j.kcStep) {
		j.strips = strips
	}
	j.plan(ws, mr, 1, true)
	j.runParts()
	j.release()
}

// packIm2col packs rows [pc, pc+kc) of panels [jb, je) of the patch matrix: row
// p = (c·K+i)·K+j, column = (n, y, x), value src[n][c][y·S−P+i][x·S−P+j] or 0
// outside. Passes cover whole channels (kcStep is a multiple of K²), so the loops
// run over channels, kernel rows and kernel columns with no division, and each
// kernel row reads one input row.
func (j *gemmJob) packIm2col(bb []float32, pc, kc, jb, je int) {
	g := j.g
	K, inH, inW := g.Kernel, g.InH, g.InW
	plane := inH * inW
	c0, c1 := pc/(K*K), (pc+kc)/(K*K)
	src := j.b
	for jp := jb; jp < je; jp++ {
		out := bb[(jp-jb)*kc*nr : (jp-jb+1)*kc*nr]
		for q := range nr {
			col := jp*nr + q
			t := q
			if col >= j.n {
				for ; t < len(out); t += nr {
					out[t] = 0
				}
				continue
			}
			h0, w0 := j.colH[col], j.colW[col]
			interior := w0 >= 0 && w0+K <= inW
			for c := c0; c < c1; c++ {
				base := j.colSrc[col] + c*plane
				for i := range K {
					h := h0 + i
					if uint(h) >= uint(inH) {
						for range K {
							out[t] = 0
							t += nr
						}
						continue
					}
					row := src[base+h*inW : base+h*inW+inW]
					if interior && K == 4 {
						// DCGAN's 4×4 kernels: the four taps at once, from slices
						// whose lengths let the compiler drop the bounds checks
						// (a fifth of the generator at width 16, batch 1, under
						// WebAssembly was this loop).
						r := row[w0 : w0+4 : w0+4]
						o := out[t : t+3*nr+1]
						o[0], o[nr], o[2*nr], o[3*nr] = r[0], r[1], r[2], r[3]
						t += 4 * nr
						continue
					}
					if interior {
						// No padding in this kernel row: re-slice once so the
						// loop needs no per-tap range test or bounds check.
						for _, v := range row[w0 : w0+K] {
							out[t] = v
							t += nr
						}
						continue
					}
					for x := w0; x < w0+K; x++ {
						var v float32
						if uint(x) < uint(len(row)) {
							v = row[x]
						}
						out[t] = v
						t += nr
					}
				}
			}
		}
	}
}

// Conv2DRef is the reference for Conv2D: seven nested loops, summing in float64.
func Conv2DRef(dst, src, weight []float32, g Geometry) {
	oh, ow := g.checkConv(dst, src, weight)
	K := g.Kernel
	for n := range g.Batch {
		for o := range g.OutC {
			for y := range oh {
				for x := range ow {
					var s float64
					for c := range g.InC {
						for i := range K {
							for jj := range K {
								h := y*g.Stride - g.Pad + i
								w := x*g.Stride - g.Pad + jj
								if h < 0 || h >= g.InH || w < 0 || w >= g.InW {
									continue
								}
								s += float64(weight[((o*g.InC+c)*K+i)*K+jj]) *
									float64(src[((n*g.InC+c)*g.InH+h)*g.InW+w])
							}
						}
					}
					dst[((n*g.OutC+o)*oh+y)*ow+x] = float32(s)
				}
			}
		}
	}
}
