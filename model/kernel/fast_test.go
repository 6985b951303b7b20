package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// Fast kernels against their references.
//
// Tolerance. Each shape is checked twice:
//
//  1. Exactly, on small integers (inputs and weights in −3..3): every product
//     and partial sum is an integer far below 2²⁴, exact in float32 whatever the
//     order of summation, so the fast kernel must equal the reference bit for bit.
//     This catches every indexing, padding and blocking error.
//  2. Within rounding, on uniform values in [−1, 1]: for each output,
//     |fast − ref| ≤ 2·k·2⁻²⁴·Σ|w·x|, where k is the number of terms summed
//     (InC·K² for Conv2D, InC·⌈K/S⌉² at most for ConvTranspose2D, k for Gemm)
//     and Σ|w·x| is the reference run on absolute values. k·2⁻²⁴·Σ|w·x| bounds
//     the rounding error of a float32 sum in any order (Higham's γ_k); the
//     factor 2 covers the reference's own rounding where it sums in float32.
//     On failure the test prints the largest difference and the largest
//     difference relative to Σ|w·x|.

const unitRoundoff = 0x1p-24

type shapeCase struct {
	name string
	g    Geometry
}

// ganomalyShapes are the generator's layers at nc=1 and 3, ngf=16 and 64, nz=100.
func ganomalyShapes(batch int, transposed bool) []shapeCase {
	var cs []shapeCase
	for _, ngf := range []int{16, 64} {
		for _, nc := range []int{1, 3} {
			if !transposed {
				cs = append(cs,
					shapeCase{fmt.Sprintf("enc-%d-%d-32x32", nc, ngf), Geometry{batch, nc, 32, 32, ngf, 4, 2, 1}},
					shapeCase{fmt.Sprintf("enc-%d-%d-16x16", ngf, 2*ngf), Geometry{batch, ngf, 16, 16, 2 * ngf, 4, 2, 1}},
					shapeCase{fmt.Sprintf("enc-%d-%d-8x8", 2*ngf, 4*ngf), Geometry{batch, 2 * ngf, 8, 8, 4 * ngf, 4, 2, 1}},
					shapeCase{fmt.Sprintf("enc-%d-100-4x4", 4*ngf), Geometry{batch, 4 * ngf, 4, 4, 100, 4, 1, 0}},
					shapeCase{fmt.Sprintf("extra-%d-%d-16x16", ngf, ngf), Geometry{batch, ngf, 16, 16, ngf, 3, 1, 1}},
					shapeCase{fmt.Sprintf("disc-%d-1-4x4", 4*ngf), Geometry{batch, 4 * ngf, 4, 4, 1, 4, 1, 0}},
				)
				continue
			}
			cs = append(cs,
				shapeCase{fmt.Sprintf("dec-100-%d-1x1", 4*ngf), Geometry{batch, 100, 1, 1, 4 * ngf, 4, 1, 0}},
				shapeCase{fmt.Sprintf("dec-%d-%d-4x4", 4*ngf, 2*ngf), Geometry{batch, 4 * ngf, 4, 4, 2 * ngf, 4, 2, 1}},
				shapeCase{fmt.Sprintf("dec-%d-%d-8x8", 2*ngf, ngf), Geometry{batch, 2 * ngf, 8, 8, ngf, 4, 2, 1}},
				shapeCase{fmt.Sprintf("dec-%d-%d-16x16", ngf, nc), Geometry{batch, ngf, 16, 16, nc, 4, 2, 1}},
				shapeCase{fmt.Sprintf("extra-%d-%d-16x16", ngf, ngf), Geometry{batch, ngf, 16, 16, ngf, 3, 1, 1}},
			)
		}
	}
	return cs
}

// randomConvShapes draws geometries over kernel sizes 1–5, strides 1–3, pads
// 0–2, odd sizes and channel counts, batches 1–4, and now and then enough input
// channels to need several passes over k.
func randomConvShapes(r *rand.Rand, count int, transposed bool) []shapeCase {
	var cs []shapeCase
	for len(cs) < count {
		K := []int{1, 2, 3, 4, 5}[r.IntN(5)]
		g := Geometry{
			Batch: 1 + r.IntN(4), InC: 1 + r.IntN(9), OutC: 1 + r.IntN(10),
			InH: 1 + r.IntN(11), InW: 1 + r.IntN(11),
			Kernel: K, Stride: 1 + r.IntN(3), Pad: r.IntN(min(K, 3)),
		}
		if r.IntN(6) == 0 {
			g.InC = 17 + r.IntN(40) // several k-passes when K ≥ 3
		}
		if transposed {
			if oh, ow := g.ConvTransposeOut(); oh < 1 || ow < 1 {
				continue
			}
		} else if g.InH+2*g.Pad < K || g.InW+2*g.Pad < K {
			continue
		}
		cs = append(cs, shapeCase{fmt.Sprintf("%+v", g), g})
	}
	return cs
}

func fillInts(r *rand.Rand, x []float32) {
	for i := range x {
		x[i] = float32(r.IntN(7) - 3)
	}
}

func fillUniform(r *rand.Rand, x []float32) {
	for i := range x {
		x[i] = 2*r.Float32() - 1
	}
}

func absOf(x []float32) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(math.Abs(float64(v)))
	}
	return y
}

func nans(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

// checkWithin fails unless |got−want| ≤ 2·terms·2⁻²⁴·mag element-wise.
func checkWithin(t *testing.T, name string, got, want, mag []float32, terms int) {
	t.Helper()
	var maxDiff, maxRel float64
	bad := -1
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= 2*float64(terms)*unitRoundoff*float64(mag[i])) { // also catches NaN
			if bad < 0 {
				bad = i
			}
		}
		maxDiff = max(maxDiff, d)
		if mag[i] > 0 {
			maxRel = max(maxRel, d/float64(mag[i]))
		}
	}
	if bad >= 0 {
		t.Errorf("%s: element %d = %g, want %g (Σ|w·x| = %g, k = %d); max |diff| %.3g, max |diff|/Σ|w·x| %.3g, bound %.3g",
			name, bad, got[bad], want[bad], mag[bad], terms, maxDiff, maxRel, 2*float64(terms)*unitRoundoff)
	}
}

type convOp struct {
	fast func(dst, src, w []float32, g Geometry, ws *Workspace)
	ref  func(dst, src, w []float32, g Geometry)
	out  func(Geometry) (int, int)
	// terms is the most products summed into one output.
	terms func(Geometry) int
}

var (
	convOp2D = convOp{Conv2D, Conv2DRef, Geometry.ConvOut,
		func(g Geometry) int { return g.InC * g.Kernel * g.Kernel }}
	// convOp2DPacked is Conv2DPacked, with the weight packed by PackConv2DWeight (the
	// wasm build's strips; nil, and then Conv2D's own path, elsewhere).
	convOp2DPacked = convOp{func(dst, src, w []float32, g Geometry, ws *Workspace) {
		Conv2DPacked(dst, src, w, PackConv2DWeight(w, g), g, ws)
	}, Conv2DRef, Geometry.ConvOut, convOp2D.terms}
	convOpT = convOp{ConvTranspose2D, ConvTranspose2DRef, Geometry.ConvTransposeOut,
		func(g Geometry) int { c := (g.Kernel + g.Stride - 1) / g.Stride; return g.InC * c * c }}
	// convOpTT is ConvTranspose2DT, with the weight transposed by TransposeWeight.
	convOpTT = convOp{func(dst, src, w []float32, g Geometry, ws *Workspace) {
		wt := make([]float32, len(w))
		TransposeWeight(wt, w, g)
		ConvTranspose2DT(dst, src, w, wt, PackConvTranspose2DWeight(wt, g), g, ws)
	}, ConvTranspose2DRef, Geometry.ConvTransposeOut, convOpT.terms}
)

// checkConv runs both checks for one geometry; ws is shared across calls to
// exercise workspace reuse between geometries.
func checkConv(t *testing.T, r *rand.Rand, op convOp, name string, g Geometry, ws *Workspace) {
	t.Helper()
	oh, ow := op.out(g)
	outLen := g.Batch * g.OutC * oh * ow
	src := make([]float32, g.inLen())
	w := make([]float32, g.weightLen())
	want := make([]float32, outLen)

	fillInts(r, src)
	fillInts(r, w)
	got := nans(outLen + 1) // one more, to see that nothing past dst is written
	got[outLen] = 12345
	op.fast(got, src, w, g, ws)
	op.ref(want, src, w, g)
	if !slices.Equal(got[:outLen], want) {
		i := 0
		for got[i] == want[i] {
			i++
		}
		t.Errorf("%s integers: element %d = %g, want %g", name, i, got[i], want[i])
	}
	if got[outLen] != 12345 {
		t.Errorf("%s: wrote past the end of dst", name)
	}

	fillUniform(r, src)
	fillUniform(r, w)
	op.fast(got, src, w, g, ws)
	op.ref(want, src, w, g)
	mag := make([]float32, outLen)
	op.ref(mag, absOf(src), absOf(w), g)
	checkWithin(t, name+" uniform", got, want, mag, op.terms(g))
}

func TestConv2DMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ws := new(Workspace)
	shapes := append(ganomalyShapes(1, false), ganomalyShapes(2, false)[:6]...)
	shapes = append(shapes, randomConvShapes(r, 300, false)...)
	shapes = append(shapes,
		shapeCase{"1x1 many channels", Geometry{3, 300, 5, 3, 7, 1, 1, 0}},
		shapeCase{"1x1 strided", Geometry{2, 5, 7, 7, 6, 1, 2, 0}},
		shapeCase{"wide kernel", Geometry{1, 3, 20, 20, 5, 17, 1, 8}},
		// Output rows 8 or more wide, packed from the input split by phase
		// (packIm2colPhases), with strides above 2, kernels narrower than the
		// stride, and padding of two.
		shapeCase{"phases S=3", Geometry{2, 3, 9, 26, 5, 2, 3, 1}},
		shapeCase{"phases K<S", Geometry{1, 2, 5, 30, 3, 1, 3, 0}},
		shapeCase{"phases P=2", Geometry{2, 3, 10, 20, 4, 5, 2, 2}},
	)
	for _, c := range shapes {
		checkConv(t, r, convOp2D, c.name, c.g, ws)
		checkConv(t, r, convOp2DPacked, c.name+" (weight packed)", c.g, ws)
	}
}

func TestConvTranspose2DMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ws := new(Workspace)
	shapes := append(ganomalyShapes(1, true), ganomalyShapes(3, true)[:5]...)
	shapes = append(shapes, randomConvShapes(r, 300, true)...)
	shapes = append(shapes,
		shapeCase{"many channels", Geometry{2, 300, 3, 3, 5, 3, 2, 1}},
		shapeCase{"1x1 input, many outputs", Geometry{1, 2, 1, 1, 40, 4, 1, 0}},
	)
	for _, c := range shapes {
		checkConv(t, r, convOpT, c.name, c.g, ws)
		checkConv(t, r, convOpTT, c.name+" (weight transposed)", c.g, ws)
	}
}

// TestParallelSplits forces several part counts (natively; under wasm maxParts
// is 1 and this repeats the serial test) so that both the column and the row
// split, with their alignments, meet the references.
func TestParallelSplits(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := rand.New(rand.NewPCG(5, 6))
	ws := new(Workspace)
	for _, procs := range []int{2, 3, 5, 8} {
		runtime.GOMAXPROCS(procs)
		for _, b := range []int{1, 3} {
			for _, c := range ganomalyShapes(b, false)[6:12] { // ngf 16, nc 3
				checkConv(t, r, convOp2D, fmt.Sprint(procs, " procs ", c.name), c.g, ws)
			}
			for _, c := range ganomalyShapes(b, true)[5:10] {
				checkConv(t, r, convOpT, fmt.Sprint(procs, " procs ", c.name), c.g, ws)
			}
		}
		checkConv(t, r, convOpT, "odd pixels", Geometry{2, 40, 5, 3, 9, 3, 1, 1}, ws)
		checkConv(t, r, convOpT, "kernel² 9", Geometry{1, 64, 6, 6, 33, 3, 2, 1}, ws)
		checkConv(t, r, convOpT, "1x1 input", Geometry{1, 300, 1, 1, 200, 4, 1, 0}, ws)
		checkConv(t, r, convOpT, "1x1 input, batch 5", Geometry{5, 300, 1, 1, 200, 4, 1, 0}, ws)
		checkConv(t, r, convOpTT, "weight transposed, 1x1 input, batch 5", Geometry{5, 300, 1, 1, 200, 4, 1, 0}, ws)
		checkConv(t, r, convOpTT, "weight transposed, odd pixels", Geometry{2, 40, 5, 3, 9, 3, 1, 1}, ws)
		compareGemm(t, r, NoTrans, Trans, 130, 301, 270, 3, true, ws)
	}
}

// compareGemm compares Gemm with GemmRef at one size, leading dimensions padded by
// pad, both exactly on integers and within rounding on uniform values.
func compareGemm(t *testing.T, r *rand.Rand, tA, tB Transpose, m, n, k, pad int, accumulate bool, ws *Workspace) {
	t.Helper()
	name := fmt.Sprintf("%c%c m=%d n=%d k=%d pad=%d acc=%v", tA, tB, m, n, k, pad, accumulate)
	rowA, colA := m, k
	if tA == Trans {
		rowA, colA = k, m
	}
	rowB, colB := k, n
	if tB == Trans {
		rowB, colB = n, k
	}
	lda, ldb, ldc := max(1, colA)+pad, max(1, colB)+pad, max(1, n)+pad
	a := make([]float32, rowA*lda)
	b := make([]float32, rowB*ldb)
	c0 := make([]float32, m*ldc)
	for _, integers := range []bool{true, false} {
		fill := fillUniform
		if integers {
			fill = fillInts
		}
		fill(r, a)
		fill(r, b)
		fill(r, c0)
		got, want := slices.Clone(c0), slices.Clone(c0)
		Gemm(tA, tB, m, n, k, a, lda, b, ldb, accumulate, got, ldc, ws)
		GemmRef(tA, tB, m, n, k, a, lda, b, ldb, accumulate, want, ldc)
		for i := range m {
			for j := n; j < ldc; j++ { // the padding of C is not C's
				if got[i*ldc+j] != c0[i*ldc+j] {
					t.Fatalf("%s: wrote C's padding at (%d, %d)", name, i, j)
				}
			}
		}
		if integers {
			if !slices.Equal(got, want) {
				t.Errorf("%s integers: differs from GemmRef", name)
			}
			continue
		}
		mag := absOf(c0)
		GemmRef(tA, tB, m, n, k, absOf(a), lda, absOf(b), ldb, accumulate, mag, ldc)
		checkWithin(t, name, got, want, mag, k+1)
	}
}

func TestGemmMatchesRef(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ws := new(Workspace)
	sizes := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31}
	for _, tA := range []Transpose{NoTrans, Trans} {
		for _, tB := range []Transpose{NoTrans, Trans} {
			for range 60 {
				m, n, k := sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))]
				compareGemm(t, r, tA, tB, m, n, k, r.IntN(3), r.IntN(2) == 0, ws)
			}
			// Past one pass of k (256), one block of panels (256 columns), and odd edges.
			compareGemm(t, r, tA, tB, 67, 301, 600, 1, false, ws)
			compareGemm(t, r, tA, tB, 5, 513, 257, 0, true, ws)
			compareGemm(t, r, tA, tB, 130, 1, 1000, 2, false, ws)
			compareGemm(t, r, tA, tB, 1000, 1, 3, 1, true, ws) // gemvT in several chunks
		}
	}
	compareGemm(t, r, NoTrans, NoTrans, 3, 3, 5, 0, false, nil) // nil workspace
}

// TestFoldedBatchNorm holds FoldBatchNorm + ScaleShiftActivate to BatchNormRef +
// Activate. The folded form rounds scale and shift to float32 and computes
// x·scale+shift in float32: allow 4·2⁻²⁴ of |x·scale|+|shift| (plus the
// activation's own rounding, one more 2⁻²⁴ of the result).
func TestFoldedBatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const batch, channels, spatial = 3, 7, 11
	weight, bias, mean, variance := make([]float32, channels), make([]float32, channels), make([]float32, channels), make([]float32, channels)
	fillUniform(r, weight)
	fillUniform(r, bias)
	fillUniform(r, mean)
	for i := range variance {
		variance[i] = 0.01 + 3*r.Float32()
	}
	scale, shift := make([]float32, channels), make([]float32, channels)
	FoldBatchNorm(scale, shift, weight, bias, mean, variance, 1e-5)
	x := make([]float32, batch*channels*spatial)
	for i := range x {
		x[i] = 4 * (2*r.Float32() - 1)
	}
	for act := Identity; act <= Sigmoid; act++ {
		got, want := slices.Clone(x), slices.Clone(x)
		ScaleShiftActivate(got, batch, channels, spatial, scale, shift, act)
		BatchNormRef(want, batch, channels, spatial, weight, bias, mean, variance, 1e-5)
		Activate(want, act)
		for i := range x {
			c := i / spatial % channels
			bound := 4*unitRoundoff*(math.Abs(float64(x[i]*scale[c]))+math.Abs(float64(shift[c]))) +
				unitRoundoff*math.Abs(float64(want[i]))
			if d := math.Abs(float64(got[i] - want[i])); d > bound {
				t.Errorf("%v: element %d = %g, want %g (difference %g > %g)", act, i, got[i], want[i], d, bound)
				break
			}
		}
	}
}

func TestPanics(t *testing.T) {
	g := Geometry{1, 2, 4, 4, 3, 3, 1, 1}
	src, w, dst := make([]float32, 32), make([]float32, 54), make([]float32, 48)
	cases := []struct {
		want string
		f    func()
	}{
		{shortSrc, func() { Conv2D(dst, src[:31], w, g, nil) }},
		{shortWeight, func() { Conv2D(dst, src, w[:53], g, nil) }},
		{shortDst, func() { Conv2D(dst[:47], src, w, g, nil) }},
		{shortDst, func() { Conv2DRef(dst[:47], src, w, g) }},
		{badGeometry, func() { Conv2D(dst, src, w, Geometry{1, 2, 4, 4, 3, 3, 0, 1}, nil) }},
		{badGeometry, func() { Conv2D(dst, src, w, Geometry{1, 2, 4, 4, 3, 3, 1, -1}, nil) }},
		{badGeometry, func() { ConvTranspose2D(dst, src, w, Geometry{0, 2, 4, 4, 3, 3, 1, 1}, nil) }},
		{emptyOutput, func() { Conv2D(dst, src, w, Geometry{1, 2, 1, 1, 3, 3, 1, 0}, nil) }},
		{emptyOutput, func() { ConvTranspose2D(dst, src, w, Geometry{1, 2, 1, 1, 3, 1, 1, 1}, nil) }},
		{shortSrc, func() { ConvTranspose2DRef(dst, src[:1], w, g) }},
		{badTranspose, func() { Gemm('X', NoTrans, 1, 1, 1, src, 1, src, 1, false, dst, 1, nil) }},
		{badLdA, func() { Gemm(NoTrans, NoTrans, 2, 2, 3, src, 2, src, 2, false, dst, 2, nil) }},
		{shortC, func() { GemmRef(NoTrans, NoTrans, 2, 2, 3, src, 3, src, 2, false, dst[:3], 2) }},
		{badActivation, func() { Activate(src, Activation(99)) }},
		{badActivation, func() { ScaleShiftActivate(src, 1, 2, 16, w, w, Activation(-1)) }},
		{shortX, func() { ScaleShiftActivate(src, 1, 2, 17, w, w, ReLU) }},
		{shortParam, func() { ScaleShiftActivate(src, 1, 2, 16, w[:1], w, ReLU) }},
		{shortParam, func() { FoldBatchNorm(w[:1], w, w[:2], w, w, w, 1e-5) }},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if got := recover(); got != c.want {
					t.Errorf("panic %v, want %q", got, c.want)
				}
			}()
			c.f()
		}()
	}
}

// TestBuild says which micro-kernels this test binary holds, so that a log shows
// that both builds ran (make test runs the package with and without GOEXPERIMENT=simd).
func TestBuild(t *testing.T) {
	on, lanes := SIMD()
	t.Logf("SIMD %v, %d float32 lanes, micro-tile %d×%d", on, lanes, mr, nr)
	if on && nr != 2*lanes {
		t.Errorf("nr %d, want two vectors of %d lanes", nr, lanes)
	}
}
