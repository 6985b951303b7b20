package kernel

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Hand-computed cases for the reference kernels. Every expected number below was
// worked out by hand from the definitions in the doc comments.

func TestConv2DRefByHand(t *testing.T) {
	in := []float32{ // one image, one channel, 3×3
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}
	k := []float32{1, 2, 3, 4} // [1,1,2,2]

	// Stride 1, pad 0: out[y][x] = 1·in[y][x] + 2·in[y][x+1] + 3·in[y+1][x] + 4·in[y+1][x+1].
	// 1+4+12+20, 2+6+15+24, 4+10+21+32, 5+12+24+36.
	g := Geometry{Batch: 1, InC: 1, InH: 3, InW: 3, OutC: 1, Kernel: 2, Stride: 1, Pad: 0}
	checkExact(t, "s1p0", conv(g, in, k), []float32{37, 47, 67, 77})

	// Stride 2, pad 1: (3+2−2)/2+1 = 2. out[y][x] covers rows 2y−1..2y, columns 2x−1..2x:
	// [0][0]: only in[0][0] under tap 4 → 4; [0][1]: in[0][1]·3 + in[0][2]·4 = 6+12;
	// [1][0]: in[1][0]·2 + in[2][0]·4 = 8+28; [1][1]: 5+12+24+36.
	g.Stride, g.Pad = 2, 1
	checkExact(t, "s2p1", conv(g, in, k), []float32{4, 18, 36, 77})

	// Two channels in, two out, to pin the [OutC, InC, K, K] layout. Channel 1 is all
	// ones. Output 0 = the s1p0 result + Σ of a kernel of ones over ones (4); output 1
	// = −1 · in₁[y+1][x+1] = −1.
	in2 := append(slices.Clone(in), 1, 1, 1, 1, 1, 1, 1, 1, 1)
	k2 := []float32{
		1, 2, 3, 4, // out 0, in 0
		1, 1, 1, 1, // out 0, in 1
		0, 0, 0, 0, // out 1, in 0
		0, 0, 0, -1, // out 1, in 1
	}
	g = Geometry{Batch: 1, InC: 2, InH: 3, InW: 3, OutC: 2, Kernel: 2, Stride: 1, Pad: 0}
	checkExact(t, "2→2", conv(g, in2, k2), []float32{41, 51, 71, 81, -1, -1, -1, -1})

	// Batch of two: the second image is the first times 10.
	in3 := append(slices.Clone(in), 10, 20, 30, 40, 50, 60, 70, 80, 90)
	g = Geometry{Batch: 2, InC: 1, InH: 3, InW: 3, OutC: 1, Kernel: 2, Stride: 1, Pad: 0}
	checkExact(t, "batch", conv(g, in3, k), []float32{37, 47, 67, 77, 370, 470, 670, 770})
}

func TestConvTranspose2DRefByHand(t *testing.T) {
	in := []float32{1, 2, 3, 4} // one image, one channel, 2×2
	k := []float32{1, 10, 100, 1000}

	// Stride 1, pad 0: 3×3, out[h][w] = Σ in[y][x]·k[h−y][w−x].
	// [0][1] = 1·10 + 2·1; [1][1] = 1·1000 + 2·100 + 3·10 + 4·1; [2][1] = 3·1000 + 4·100.
	g := Geometry{Batch: 1, InC: 1, InH: 2, InW: 2, OutC: 1, Kernel: 2, Stride: 1, Pad: 0}
	checkExact(t, "s1p0", convT(g, in, k), []float32{
		1, 12, 20,
		103, 1234, 2040,
		300, 3400, 4000,
	})

	// Stride 2, pad 0: 4×4, each pixel writes its own 2×2 block.
	g.Stride = 2
	checkExact(t, "s2p0", convT(g, in, k), []float32{
		1, 10, 2, 20,
		100, 1000, 200, 2000,
		3, 30, 4, 40,
		300, 3000, 400, 4000,
	})

	// Stride 2, pad 1: (2−1)·2 − 2 + 2 = 2, the 4×4 above without its border.
	g.Pad = 1
	checkExact(t, "s2p1", convT(g, in, k), []float32{1000, 200, 30, 4})

	// Two output channels pin the [InC, OutC, K, K] layout: channel 1's kernel is all
	// ones, so its output counts which pixels cover each position.
	k2 := []float32{1, 10, 100, 1000, 1, 1, 1, 1}
	g = Geometry{Batch: 1, InC: 1, InH: 2, InW: 2, OutC: 2, Kernel: 2, Stride: 1, Pad: 0}
	checkExact(t, "1→2", convT(g, in, k2), []float32{
		1, 12, 20, 103, 1234, 2040, 300, 3400, 4000,
		1, 3, 2, 4, 10, 6, 3, 7, 4,
	})

	// Two input channels: the second (all ones) with kernel ones adds the counts.
	in2 := []float32{1, 2, 3, 4, 1, 1, 1, 1}
	k3 := []float32{1, 10, 100, 1000, 1, 1, 1, 1}
	g = Geometry{Batch: 1, InC: 2, InH: 2, InW: 2, OutC: 1, Kernel: 2, Stride: 1, Pad: 0}
	checkExact(t, "2→1", convT(g, in2, k3), []float32{
		2, 14, 21, 105, 1238, 2042, 301, 3402, 4001,
	})
}

func TestGemmRefByHand(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5, 6}     // 2×3
	at := []float32{1, 4, 2, 5, 3, 6}    // its transpose, 3×2
	b := []float32{7, 8, 9, 10, 11, 12}  // 3×2
	bt := []float32{7, 9, 11, 8, 10, 12} // its transpose, 2×3
	want := []float32{58, 64, 139, 154}  // 1·7+2·9+3·11, 1·8+2·10+3·12, 4·7+5·9+6·11, 4·8+5·10+6·12
	for _, tc := range []struct {
		tA, tB   Transpose
		a, b     []float32
		lda, ldb int
	}{
		{NoTrans, NoTrans, a, b, 3, 2},
		{Trans, NoTrans, at, b, 2, 2},
		{NoTrans, Trans, a, bt, 3, 3},
		{Trans, Trans, at, bt, 2, 3},
	} {
		c := []float32{1, 1, 1, 1}
		GemmRef(tc.tA, tc.tB, 2, 2, 3, tc.a, tc.lda, tc.b, tc.ldb, false, c, 2)
		checkExact(t, "gemm "+string(tc.tA)+string(tc.tB), c, want)
		GemmRef(tc.tA, tc.tB, 2, 2, 3, tc.a, tc.lda, tc.b, tc.ldb, true, c, 2)
		checkExact(t, "gemm accumulate", c, []float32{116, 128, 278, 308})
	}
	// A leading dimension larger than the row: C is 1×1 taken from the middle.
	c := []float32{0, -5}
	GemmRef(NoTrans, NoTrans, 1, 1, 2, []float32{2, 3, 99}, 3, []float32{4, 99, 5}, 2, false, c, 2)
	checkExact(t, "gemm lda", c, []float32{2*4 + 3*5, -5})
}

func TestBatchNormRefByHand(t *testing.T) {
	// Channel 0: mean 1, var 3, eps 1 → divide by 2, weight 4, bias 0.5:
	// (1−1)/2·4+0.5 = 0.5, (2−1)/2·4+0.5 = 2.5. Channel 1: mean 0, var 0, eps 1,
	// weight −1, bias 0 → −x. Two images.
	x := []float32{1, 2, 3, -4, 1, 3, 0, 5}
	BatchNormRef(x, 2, 2, 2, []float32{4, -1}, []float32{0.5, 0}, []float32{1, 0}, []float32{3, 0}, 1)
	checkExact(t, "bn", x, []float32{0.5, 2.5, -3, 4, 0.5, 4.5, 0, -5})

	scale, shift := make([]float32, 2), make([]float32, 2)
	FoldBatchNorm(scale, shift, []float32{4, -1}, []float32{0.5, 0}, []float32{1, 0}, []float32{3, 0}, 1)
	checkExact(t, "fold scale", scale, []float32{2, -1})   // 4/2, −1/1
	checkExact(t, "fold shift", shift, []float32{-1.5, 0}) // 0.5 − 1·2, 0 − 0
}

func TestActivateByHand(t *testing.T) {
	in := []float32{-2, -0.5, 0, 0.5, 3}
	cases := []struct {
		act  Activation
		want []float32
	}{
		{Identity, []float32{-2, -0.5, 0, 0.5, 3}},
		{ReLU, []float32{0, 0, 0, 0.5, 3}},
		{LeakyReLU, []float32{-0.4, -0.1, 0, 0.5, 3}},
	}
	for _, tc := range cases {
		x := slices.Clone(in)
		Activate(x, tc.act)
		checkExact(t, tc.act.String(), x, tc.want)
	}
}

// TestActivateAgainstMath compares every activation with its definition in
// float64 over a sweep of inputs, to within one float32 rounding (2⁻²⁴ relative,
// 1e-7 absolute near zero).
func TestActivateAgainstMath(t *testing.T) {
	defs := map[Activation]func(float64) float64{
		Identity:  func(v float64) float64 { return v },
		ReLU:      func(v float64) float64 { return math.Max(v, 0) },
		LeakyReLU: func(v float64) float64 { return map[bool]float64{true: v, false: 0.2 * v}[v >= 0] },
		Tanh:      math.Tanh,
		Sigmoid:   func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
	}
	var in []float32
	for v := -30.0; v <= 30; v += 0.0625 {
		in = append(in, float32(v))
	}
	in = append(in, 1e-30, -1e-30, 200, -200, float32(math.Inf(1)), float32(math.Inf(-1)))
	for act, f := range defs {
		x := slices.Clone(in)
		Activate(x, act)
		for i, v := range in {
			want := f(float64(v))
			got := float64(x[i])
			if math.IsInf(want, 0) && got == want {
				continue
			}
			if d := math.Abs(got - want); d > 1e-7+math.Abs(want)*0x1p-24 {
				t.Errorf("%v(%g) = %g, want %g (difference %g)", act, v, got, want, d)
			}
		}
		nan := []float32{float32(math.NaN())}
		Activate(nan, act)
		if !math.IsNaN(float64(nan[0])) {
			t.Errorf("%v(NaN) = %g, want NaN", act, nan[0])
		}
	}
}

func conv(g Geometry, in, k []float32) []float32 {
	oh, ow := g.ConvOut()
	out := make([]float32, g.Batch*g.OutC*oh*ow)
	Conv2DRef(out, in, k, g)
	return out
}

func convT(g Geometry, in, k []float32) []float32 {
	oh, ow := g.ConvTransposeOut()
	out := make([]float32, g.Batch*g.OutC*oh*ow)
	for i := range out {
		out[i] = float32(math.NaN()) // dst is overwritten, not added to
	}
	ConvTranspose2DRef(out, in, k, g)
	return out
}

func checkExact(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %v\nwant %v", name, got, want)
	}
}

// TestTanhMatchesMath checks the fast tanh against math.Tanh rounded to float32, on
// values from 1e-12 to 1e4 in magnitude, both signs, the edges of its small-value
// path, zeros, infinities and NaN. A difference of one float32 ulp is allowed (the
// two round float64 values that may straddle a float32 midpoint); none was seen.
func TestTanhMatchesMath(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	vals := []float32{0, float32(math.Copysign(0, -1)), 1e-4, -1e-4, 0.99999e-4, 0.625, -0.625, 9, 20, 44, 1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for range 200000 {
		vals = append(vals, float32(r.NormFloat64()*math.Pow(10, r.Float64()*16-12)))
	}
	for _, v := range vals {
		got, want := tanh(v), float32(math.Tanh(float64(v)))
		if math.IsNaN(float64(want)) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("tanh(%v) = %v, want NaN", v, got)
			}
			continue
		}
		if got != want && math.Nextafter32(want, got) != got {
			t.Fatalf("tanh(%v) = %v, want %v (math.Tanh)", v, got, want)
		}
		if math.Signbit(float64(got)) != math.Signbit(float64(want)) {
			t.Fatalf("tanh(%v) = %v has the wrong sign, want %v", v, got, want)
		}
	}
}
