package kernel

// The WebAssembly strip kernel's assembly (microkernel_wasm.s) is written by a Go
// program; here, in a file of every build, so that go generate finds the line.
//go:generate go run gen_kernel_wasm.go

// Strips is a weight matrix packed once, in the strips of four interleaved rows that
// the WebAssembly build's strip kernel reads (stripKernel), pass after pass of depth.
// The GEMM packs A in the same strips at a call when enough panels of B share them;
// at batch 1 the late layers have 2 to 8 panels, too few to repay the packing, and
// they ran the slower row kernel (vkern4N) on a third of the generator's time at
// width 64. Model code that runs the same weights many times
// packs them at load (PackConv2DWeight, PackConvTranspose2DWeight); the packing is
// nil where the build does not use strips.
type Strips struct {
	a      []float32
	m, k   int // the matrix packed, m×k
	mFull  int // rows in whole strips (the last m mod 4 rows are read from the matrix)
	kcStep int // depth of a pass, as the GEMM that reads it steps
}

// pass is the strips of rows from i on, of the pass of depth kc from pc: strip
// (i/mr)+s at s·mr·kc.
func (s *Strips) pass(pc, kc, i int) []float32 {
	return s.a[pc*s.mFull+i*kc : pc*s.mFull+s.mFull*kc]
}

// fits reports whether s is the packing of an m×k matrix read in passes of kcStep.
func (s *Strips) fits(m, k, kcStep int) bool {
	return s != nil && s.m == m && s.k == k && s.kcStep == kcStep
}

func packStripsOf(a []float32, m, k, kcStep int) *Strips {
	if !packStrips {
		return nil
	}
	s := &Strips{a: make([]float32, (m/mr*mr)*k), m: m, k: k, mFull: m / mr * mr, kcStep: kcStep}
	for pc := 0; pc < k; pc += kcStep {
		kc := min(kcStep, k-pc)
		packAN(s.a[pc*s.mFull:], a, k, pc, kc, 0, s.mFull/mr, mr*kc)
	}
	return s
}

// PackConv2DWeight packs a Conv2D weight of geometry g (OutC×InC×K×K) for
// Conv2DPacked.
func PackConv2DWeight(weight []float32, g Geometry) *Strips {
	kk := g.Kernel * g.Kernel
	return packStripsOf(weight[:g.weightLen()], g.OutC, g.InC*kk, conv2DKCStep(kk))
}

// PackConvTranspose2DWeight packs the transposed weight of a ConvTranspose2D
// (TransposeWeight's output) for ConvTranspose2DT.
func PackConvTranspose2DWeight(weightT []float32, g Geometry) *Strips {
	return packStripsOf(weightT[:g.weightLen()], g.OutC*g.Kernel*g.Kernel, g.InC, kcMax)
}

// packAN packs g strips of mr rows of A, from row i and depth pc to pc+kc, into dst
// as packAT does for a transposed A: element (i+mr·s+r, pc+p) goes to
// dst[s·stride + mr·p + r].
func packAN(dst, a []float32, lda, pc, kc, i, g, stride int) {
	for s := range g {
		for r := range mr {
			o := (i+mr*s+r)*lda + pc
			d := s*stride + r
			for _, v := range a[o : o+kc] {
				dst[d] = v
				d += mr
			}
		}
	}
}

// packAT packs g strips of mr rows of op(A) = Aᵀ, from row i and depth pc to
// pc+kc, into dst: element (i+mr·s+r, pc+p) goes to dst[s·stride + mr·p + r].
// It reads A in rows, the order in which it is stored.
func packAT(dst, a []float32, lda, pc, kc, i, g, stride int) {
	for p := range kc {
		row := a[(pc+p)*lda+i : (pc+p)*lda+i+mr*g]
		o := mr * p
		for s := range g {
			q := row[mr*s : mr*s+mr : mr*s+mr]
			d := dst[o : o+mr : o+mr]
			d[0], d[1], d[2], d[3] = q[0], q[1], q[2], q[3]
			o += stride
		}
	}
}
