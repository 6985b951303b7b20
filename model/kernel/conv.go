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
	if j.bk == bIm2col && ow >= minPhaseWidth && nr >= minPhaseWidth && g.Kernel <= maxPhaseKernel {
		j.splitPhases(ws)
	}
	if strips.fits(j.m, j.k, j.kcStep) {
		j.strips = strips
	}
	j.plan(ws, mr, 1, true)
	j.runParts()
	j.release()
}

// A Conv2D whose output rows are at least minPhaseWidth wide packs its patches from
// the input split by phase (splitPhases, packIm2colPhases): a panel of windows
// along an output row then reads each tap's values in a run, where im2col reads
// them S apart. Narrower rows, or panels (the scalar build's nr = 2), cut the runs
// too short to gain.
const (
	minPhaseWidth  = 8
	maxPhaseKernel = 8
)

// splitPhases copies the input batch into ws.phases split by phase, and makes the
// job pack from there (bPhases): input row (n, c, h) becomes S rows of
// j.phaseLen floats, row r holding the row's columns r, r+S, r+2S, … from
// j.phaseLeft on, with zeros around them for the padding. Tap j of the window at
// output column x then lies in phase row (j−P) mod S at j.phaseLeft + x +
// ⌊(j−P)/S⌋, the same offset for every window, one further for the next.
func (j *gemmJob) splitPhases(ws *Workspace) {
	g := j.g
	S := g.Stride
	left := (g.Pad + S - 1) / S            // ⌈P/S⌉: the first tap of the first window
	last := floorDiv(g.Kernel-1-g.Pad, S)  // the shift of the last tap
	width := max((g.InW+S-1)/S, j.ow+last) // a phase's columns, padding on the right included
	j.phaseLeft, j.phaseLen = left, left+width
	rows := g.Batch * g.InC * g.InH
	j.phases = growBuf(&ws.phases, rows*S*j.phaseLen)
	for row := range rows {
		in := j.b[row*g.InW : (row+1)*g.InW]
		for r := range S {
			o := j.phases[(row*S+r)*j.phaseLen : (row*S+r+1)*j.phaseLen]
			u := 0
			for ; u < left; u++ {
				o[u] = 0
			}
			for w := r; w < len(in); w += S {
				o[u] = in[w]
				u++
			}
			for ; u < len(o); u++ {
				o[u] = 0
			}
		}
	}
	j.bk = bPhases
}

// floorDiv is ⌊a/b⌋ for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// packIm2colPhases is packIm2col from the input split by phase (splitPhases). A
// panel's columns are cut into stretches of windows along one output row; for a
// stretch, each kernel row reads one input row, and each tap a run of its phase
// row, one value per window.
func (j *gemmJob) packIm2colPhases(bb []float32, pc, kc, jb, je int) {
	g := j.g
	K, S, inH := g.Kernel, g.Stride, g.InH
	c0, c1 := pc/(K*K), (pc+kc)/(K*K)
	inImage := g.InC * g.InH * g.InW
	rowLen := S * j.phaseLen // the phase rows of one input row
	var tapAt [maxPhaseKernel]int
	for jj := range K {
		r := ((jj-g.Pad)%S + S) % S
		tapAt[jj] = r*j.phaseLen + j.phaseLeft + floorDiv(jj-g.Pad, S)
	}
	for jp := jb; jp < je; jp++ {
		out := bb[(jp-jb)*kc*nr : (jp-jb+1)*kc*nr]
		col0 := jp * nr
		cols := min(nr, j.n-col0)
		for q0 := 0; q0 < cols; {
			col := col0 + q0
			base, h0, w0 := j.colSrc[col], j.colH[col], j.colW[col]
			q1 := q0 + 1
			for q1 < cols && j.colSrc[col0+q1] == base && j.colH[col0+q1] == h0 && j.colW[col0+q1] == w0+(q1-q0)*S {
				q1++
			}
			n := q1 - q0 // windows in the stretch: columns [q0, q1)
			x0 := (w0 + g.Pad) / S
			t := q0 // out[t : t+n] is the stretch in the current row
			img := base / inImage
			for c := c0; c < c1; c++ {
				row0 := (img*g.InC + c) * inH // input row (img, c, 0)
				for i := range K {
					h := h0 + i
					if uint(h) >= uint(inH) {
						for range K {
							for q := range n {
								out[t+q] = 0
							}
							t += nr
						}
						continue
					}
					phases := j.phases[(row0+h)*rowLen : (row0+h+1)*rowLen]
					for _, at := range tapAt[:K] {
						d := out[t : t+n : t+n]
						src := phases[at+x0 : at+x0+n : at+x0+n]
						if n == 8 {
							d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = src[0], src[1], src[2], src[3], src[4], src[5], src[6], src[7]
						} else {
							for q, v := range src {
								d[q] = v
							}
						}
						t += nr
					}
				}
			}
			q0 = q1
		}
		clearColumns(out, cols)
	}
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
