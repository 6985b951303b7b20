package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// The backward kernels are held to naive references written from the definitions
// in float64 (below), and those references are held to finite differences of
// float64 forward passes: the chain forward definition → naive gradient → fast
// float32 gradient has no link that checks itself.

// Naive float64 forward passes, straight from the definitions.

func convNaive(y, x, w []float64, g Geometry) {
	oh, ow := g.ConvOut()
	K := g.Kernel
	clear(y)
	for n := range g.Batch {
		for o := range g.OutC {
			for yy := range oh {
				for xx := range ow {
					for c := range g.InC {
						for i := range K {
							for j := range K {
								h, v := yy*g.Stride-g.Pad+i, xx*g.Stride-g.Pad+j
								if h >= 0 && h < g.InH && v >= 0 && v < g.InW {
									y[((n*g.OutC+o)*oh+yy)*ow+xx] += w[((o*g.InC+c)*K+i)*K+j] * x[((n*g.InC+c)*g.InH+h)*g.InW+v]
								}
							}
						}
					}
				}
			}
		}
	}
}

func convTNaive(y, x, w []float64, g Geometry) {
	oh, ow := g.ConvTransposeOut()
	K := g.Kernel
	clear(y)
	for n := range g.Batch {
		for c := range g.InC {
			for yy := range g.InH {
				for xx := range g.InW {
					for o := range g.OutC {
						for i := range K {
							for j := range K {
								h, v := yy*g.Stride-g.Pad+i, xx*g.Stride-g.Pad+j
								if h >= 0 && h < oh && v >= 0 && v < ow {
									y[((n*g.OutC+o)*oh+h)*ow+v] += w[((c*g.OutC+o)*K+i)*K+j] * x[((n*g.InC+c)*g.InH+yy)*g.InW+xx]
								}
							}
						}
					}
				}
			}
		}
	}
}

// bnNaive is training-mode batch norm on [batch, channels, spatial].
func bnNaive(y, x, w, b []float64, batch, channels, spatial int, eps float64) {
	m := float64(batch * spatial)
	for c := range channels {
		var mean, vr float64
		for n := range batch {
			for s := range spatial {
				mean += x[(n*channels+c)*spatial+s]
			}
		}
		mean /= m
		for n := range batch {
			for s := range spatial {
				d := x[(n*channels+c)*spatial+s] - mean
				vr += d * d
			}
		}
		vr /= m
		for n := range batch {
			for s := range spatial {
				i := (n*channels+c)*spatial + s
				y[i] = (x[i]-mean)/math.Sqrt(vr+eps)*w[c] + b[c]
			}
		}
	}
}

func actNaive(v float64, act Activation) float64 {
	switch act {
	case ReLU:
		return max(v, 0)
	case LeakyReLU:
		if v > 0 {
			return v
		}
		return LeakySlope * v
	case Tanh:
		return math.Tanh(v)
	case Sigmoid:
		return 1 / (1 + math.Exp(-v))
	}
	return v
}

// Naive float64 gradients, from the definitions.

func convBackwardNaive(dx, dw, x, w, dy []float64, g Geometry) {
	oh, ow := g.ConvOut()
	K := g.Kernel
	clear(dx)
	clear(dw)
	for n := range g.Batch {
		for o := range g.OutC {
			for yy := range oh {
				for xx := range ow {
					d := dy[((n*g.OutC+o)*oh+yy)*ow+xx]
					for c := range g.InC {
						for i := range K {
							for j := range K {
								h, v := yy*g.Stride-g.Pad+i, xx*g.Stride-g.Pad+j
								if h >= 0 && h < g.InH && v >= 0 && v < g.InW {
									xi := ((n*g.InC+c)*g.InH+h)*g.InW + v
									wi := ((o*g.InC+c)*K+i)*K + j
									dx[xi] += w[wi] * d
									dw[wi] += x[xi] * d
								}
							}
						}
					}
				}
			}
		}
	}
}

func convTBackwardNaive(dx, dw, x, w, dy []float64, g Geometry) {
	oh, ow := g.ConvTransposeOut()
	K := g.Kernel
	clear(dx)
	clear(dw)
	for n := range g.Batch {
		for c := range g.InC {
			for yy := range g.InH {
				for xx := range g.InW {
					xi := ((n*g.InC+c)*g.InH+yy)*g.InW + xx
					for o := range g.OutC {
						for i := range K {
							for j := range K {
								h, v := yy*g.Stride-g.Pad+i, xx*g.Stride-g.Pad+j
								if h >= 0 && h < oh && v >= 0 && v < ow {
									d := dy[((n*g.OutC+o)*oh+h)*ow+v]
									wi := ((c*g.OutC+o)*K+i)*K + j
									dx[xi] += w[wi] * d
									dw[wi] += x[xi] * d
								}
							}
						}
					}
				}
			}
		}
	}
}

// bnBackwardNaive sums dy_j·∂y_j/∂x_i over the full Jacobian of a channel,
// ∂y_j/∂x_i = w·inv·(δ_ij − 1/M − x̂_i·x̂_j/M): quadratic, and independent of the
// closed form the kernel uses.
func bnBackwardNaive(dx, dw, db, x, w, dy []float64, batch, channels, spatial int, eps float64) {
	m := batch * spatial
	idx := func(c, k int) int { return ((k/spatial)*channels+c)*spatial + k%spatial }
	for c := range channels {
		var mean, vr float64
		for k := range m {
			mean += x[idx(c, k)]
		}
		mean /= float64(m)
		for k := range m {
			d := x[idx(c, k)] - mean
			vr += d * d
		}
		vr /= float64(m)
		inv := 1 / math.Sqrt(vr+eps)
		xh := func(k int) float64 { return (x[idx(c, k)] - mean) * inv }
		dw[c], db[c] = 0, 0
		for k := range m {
			dw[c] += dy[idx(c, k)] * xh(k)
			db[c] += dy[idx(c, k)]
		}
		for i := range m {
			var s float64
			for j := range m {
				delta := 0.0
				if i == j {
					delta = 1
				}
				s += dy[idx(c, j)] * w[c] * inv * (delta - 1/float64(m) - xh(i)*xh(j)/float64(m))
			}
			dx[idx(c, i)] = s
		}
	}
}

func actDerivNaive(v float64, act Activation) float64 {
	switch act {
	case ReLU:
		if v > 0 {
			return 1
		}
		return 0
	case LeakyReLU:
		if v > 0 {
			return 1
		}
		return LeakySlope
	case Tanh:
		t := math.Tanh(v)
		return 1 - t*t
	case Sigmoid:
		s := 1 / (1 + math.Exp(-v))
		return s * (1 - s)
	}
	return 1
}

// Finite differences.

func randomF64(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 2*r.Float64() - 1
	}
	return x
}

// checkGradient compares grad with central differences of L(v) = Σ r·f(v) with
// respect to v, at up to 40 random coordinates.
func checkGradient(t *testing.T, name string, r *rand.Rand, v, grad []float64, loss func() float64) {
	t.Helper()
	const h = 1e-6
	for range min(40, len(v)) {
		i := r.IntN(len(v))
		old := v[i]
		v[i] = old + h
		up := loss()
		v[i] = old - h
		down := loss()
		v[i] = old
		fd := (up - down) / (2 * h)
		if d := math.Abs(fd - grad[i]); d > 1e-6*(1+math.Abs(fd)) {
			t.Fatalf("%s: ∂L/∂v[%d] = %.9g, finite difference %.9g", name, i, grad[i], fd)
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// exactConvShapes draws convolution geometries whose backward data pass is exact
// ((OH−1)·S−2P+K == In): InH is built from a chosen output size.
func exactConvShapes(r *rand.Rand, count int) []Geometry {
	var gs []Geometry
	for len(gs) < count {
		K := 1 + r.IntN(5)
		S := 1 + r.IntN(3)
		P := r.IntN(min(K, 3))
		oh, ow := 1+r.IntN(6), 1+r.IntN(6)
		g := Geometry{Batch: 1 + r.IntN(3), InC: 1 + r.IntN(6), OutC: 1 + r.IntN(6),
			InH: (oh-1)*S - 2*P + K, InW: (ow-1)*S - 2*P + K, Kernel: K, Stride: S, Pad: P}
		if r.IntN(6) == 0 {
			g.InC = 17 + r.IntN(30)
		}
		if g.InH < 1 || g.InW < 1 || g.InH+2*g.Pad < K || g.InW+2*g.Pad < K {
			continue
		}
		if h, w := g.ConvOut(); h != oh || w != ow {
			continue
		}
		gs = append(gs, g)
	}
	return gs
}

func TestConvNaiveGradientsByFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, g := range exactConvShapes(r, 25) {
		oh, ow := g.ConvOut()
		x, w := randomF64(r, g.inLen()), randomF64(r, g.weightLen())
		rr := randomF64(r, g.Batch*g.OutC*oh*ow)
		y := make([]float64, len(rr))
		loss := func() float64 { convNaive(y, x, w, g); return dot(y, rr) }
		dx, dw := make([]float64, len(x)), make([]float64, len(w))
		convBackwardNaive(dx, dw, x, w, rr, g)
		checkGradient(t, fmt.Sprintf("conv %+v dx", g), r, x, dx, loss)
		checkGradient(t, fmt.Sprintf("conv %+v dw", g), r, w, dw, loss)
	}
	for _, sc := range randomConvShapes(r, 25, true) {
		g := sc.g
		oh, ow := g.ConvTransposeOut()
		x, w := randomF64(r, g.inLen()), randomF64(r, g.weightLen())
		rr := randomF64(r, g.Batch*g.OutC*oh*ow)
		y := make([]float64, len(rr))
		loss := func() float64 { convTNaive(y, x, w, g); return dot(y, rr) }
		dx, dw := make([]float64, len(x)), make([]float64, len(w))
		convTBackwardNaive(dx, dw, x, w, rr, g)
		checkGradient(t, fmt.Sprintf("convT %+v dx", g), r, x, dx, loss)
		checkGradient(t, fmt.Sprintf("convT %+v dw", g), r, w, dw, loss)
	}
}

func TestBatchNormNaiveGradientByFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 20 {
		batch, channels, spatial := 1+r.IntN(4), 1+r.IntN(4), 1+r.IntN(9)
		if batch*spatial < 2 {
			continue
		}
		x := randomF64(r, batch*channels*spatial)
		w, b := randomF64(r, channels), randomF64(r, channels)
		rr := randomF64(r, len(x))
		y := make([]float64, len(x))
		const eps = 1e-5
		loss := func() float64 { bnNaive(y, x, w, b, batch, channels, spatial, eps); return dot(y, rr) }
		dx, dw, db := make([]float64, len(x)), make([]float64, channels), make([]float64, channels)
		bnBackwardNaive(dx, dw, db, x, w, rr, batch, channels, spatial, eps)
		name := fmt.Sprintf("batch norm %d×%d×%d", batch, channels, spatial)
		checkGradient(t, name+" dx", r, x, dx, loss)
		checkGradient(t, name+" dweight", r, w, dw, loss)
		checkGradient(t, name+" dbias", r, b, db, loss)
	}
}

func TestActivationNaiveDerivativeByFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, act := range []Activation{ReLU, LeakyReLU, Tanh, Sigmoid} {
		for range 200 {
			v := 6*r.Float64() - 3
			if math.Abs(v) < 1e-3 {
				continue // the ReLUs' kink
			}
			const h = 1e-6
			fd := (actNaive(v+h, act) - actNaive(v-h, act)) / (2 * h)
			if d := actDerivNaive(v, act); math.Abs(d-fd) > 1e-7 {
				t.Fatalf("%v'(%g) = %g, finite difference %g", act, v, d, fd)
			}
		}
	}
}

// Fast float32 kernels against the naive references.

func f64s(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func f32s(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func absF64(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = math.Abs(v)
	}
	return y
}

// naiveGradientCase draws an input x, a weight w and an output gradient dy (of
// outLen values) for geometry g, and returns them with naive's gradients and the
// gradients of their magnitudes, the scale of the rounding allowed.
func naiveGradientCase(r *rand.Rand, naive func(dx, dw, x, w, dy []float64, g Geometry), g Geometry, outLen int) (x, w, dy []float32, wantDx, wantDw, magDx, magDw []float64) {
	x, w, dy = make([]float32, g.inLen()), make([]float32, g.weightLen()), make([]float32, outLen)
	fillUniform(r, x)
	fillUniform(r, w)
	fillUniform(r, dy)
	wantDx, wantDw = make([]float64, len(x)), make([]float64, len(w))
	naive(wantDx, wantDw, f64s(x), f64s(w), f64s(dy), g)
	magDx, magDw = make([]float64, len(x)), make([]float64, len(w))
	naive(magDx, magDw, absF64(f64s(x)), absF64(f64s(w)), absF64(f64s(dy)), g)
	return x, w, dy, wantDx, wantDw, magDx, magDw
}

func TestConvBackwardMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	ws := new(Workspace) // shared across shapes: reuse must not leak stale scratch
	type kind struct {
		name       string
		shapes     []Geometry
		outLen     func(Geometry) int
		naive      func(dx, dw, x, w, dy []float64, g Geometry)
		data       func(dx, dy, w []float32, g Geometry, ws *Workspace)
		weight     func(dw, x, dy []float32, g Geometry, acc bool, ws *Workspace)
		dataTerms  func(Geometry) int
		weightTerm func(Geometry) int
	}
	// DCGAN layers large enough that the weight gradient's GEMM has more than one
	// pass of depth (Batch·windows > kcMax; in the second, a pass starts inside an
	// image) and enough panels for the wasm build's strips; one image (A read as
	// stored), and 1×1 outputs (A read transposed).
	large := []Geometry{
		{Batch: 5, InC: 5, InH: 16, InW: 16, OutC: 7, Kernel: 4, Stride: 2, Pad: 1},
		{Batch: 3, InC: 9, InH: 12, InW: 12, OutC: 6, Kernel: 4, Stride: 1, Pad: 2},
		{Batch: 1, InC: 5, InH: 16, InW: 16, OutC: 7, Kernel: 4, Stride: 2, Pad: 1},
		{Batch: 3, InC: 8, InH: 4, InW: 4, OutC: 9, Kernel: 4, Stride: 1, Pad: 0},
	}
	tshapes := []Geometry{
		{Batch: 5, InC: 7, InH: 8, InW: 8, OutC: 5, Kernel: 4, Stride: 2, Pad: 1},
		{Batch: 3, InC: 6, InH: 13, InW: 13, OutC: 9, Kernel: 4, Stride: 1, Pad: 2},
	}
	for _, sc := range randomConvShapes(r, 40, true) {
		tshapes = append(tshapes, sc.g)
	}
	kinds := []kind{
		{"Conv2D", append(large, exactConvShapes(r, 40)...),
			func(g Geometry) int { h, w := g.ConvOut(); return g.Batch * g.OutC * h * w },
			convBackwardNaive, Conv2DBackwardData, Conv2DBackwardWeight,
			func(g Geometry) int { return g.OutC * g.Kernel * g.Kernel },
			func(g Geometry) int { h, w := g.ConvOut(); return g.Batch * h * w }},
		{"ConvTranspose2D", tshapes,
			func(g Geometry) int { h, w := g.ConvTransposeOut(); return g.Batch * g.OutC * h * w },
			convTBackwardNaive, ConvTranspose2DBackwardData, ConvTranspose2DBackwardWeight,
			func(g Geometry) int { return g.OutC * g.Kernel * g.Kernel },
			func(g Geometry) int { return g.Batch * g.InH * g.InW }},
	}
	for _, k := range kinds {
		for _, g := range k.shapes {
			name := fmt.Sprintf("%s %+v", k.name, g)
			x, w, dy, wantDx, wantDw, magDx, magDw := naiveGradientCase(r, k.naive, g, k.outLen(g))

			dx := nans(len(x))
			k.data(dx, dy, w, g, ws)
			checkWithin(t, name+" data", dx, f32s(wantDx), f32s(magDx), k.dataTerms(g))

			dw := nans(len(w) + 1)
			dw[len(w)] = 12345
			k.weight(dw, x, dy, g, false, ws)
			checkWithin(t, name+" weight", dw[:len(w)], f32s(wantDw), f32s(magDw), k.weightTerm(g))
			if dw[len(w)] != 12345 {
				t.Errorf("%s: wrote past the end of dw", name)
			}
			// accumulate adds a second copy.
			k.weight(dw, x, dy, g, true, ws)
			for i := range wantDw {
				wantDw[i] *= 2
				magDw[i] *= 2
			}
			checkWithin(t, name+" weight accumulated", dw[:len(w)], f32s(wantDw), f32s(magDw), 2*k.weightTerm(g))
		}
	}
}

func TestConv2DBackwardDataRefusesInexactGeometry(t *testing.T) {
	// 5 rows, K 2, S 2: the fifth row is in no window.
	g := Geometry{Batch: 1, InC: 1, InH: 5, InW: 4, OutC: 1, Kernel: 2, Stride: 2}
	defer func() {
		if r := recover(); r != inexactGeometry {
			t.Fatalf("panic %v, want %q", r, inexactGeometry)
		}
	}()
	Conv2DBackwardData(make([]float32, 20), make([]float32, 4), make([]float32, 4), g, nil)
}

func TestBatchNormTrainAndBackwardMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for range 30 {
		batch, channels, spatial := 1+r.IntN(5), 1+r.IntN(5), 1+r.IntN(20)
		if batch*spatial < 2 {
			continue
		}
		name := fmt.Sprintf("%d×%d×%d", batch, channels, spatial)
		x, w, b, dy := make([]float32, batch*channels*spatial), make([]float32, channels), make([]float32, channels), make([]float32, batch*channels*spatial)
		fillUniform(r, x)
		fillUniform(r, w)
		fillUniform(r, b)
		fillUniform(r, dy)
		for i := range x {
			x[i] = 3 + 2*x[i] // a mean far from 0, to catch cancellation
		}
		const eps = 1e-5
		want := make([]float64, len(x))
		bnNaive(want, f64s(x), f64s(w), f64s(b), batch, channels, spatial, eps)
		st := NewBatchStats(channels)
		y := nans(len(x))
		BatchNormTrain(y, x, batch, channels, spatial, w, b, st, eps)
		for i := range y {
			if d := math.Abs(float64(y[i]) - want[i]); !(d <= 1e-5*(1+math.Abs(want[i]))) {
				t.Fatalf("%s: y[%d] = %g, want %g", name, i, y[i], want[i])
			}
		}
		wdx, wdw, wdb := make([]float64, len(x)), make([]float64, channels), make([]float64, channels)
		bnBackwardNaive(wdx, wdw, wdb, f64s(x), f64s(w), f64s(dy), batch, channels, spatial, eps)
		dx, dw, db := nans(len(x)), nans(channels), nans(channels)
		BatchNormBackward(dx, dw, db, dy, x, batch, channels, spatial, w, st, false)
		near := func(what string, got []float32, want []float64, scale float64) {
			for i := range want {
				if d := math.Abs(float64(got[i]) - want[i]); !(d <= 1e-5*scale) {
					t.Fatalf("%s: %s[%d] = %g, want %g", name, what, i, got[i], want[i])
				}
			}
		}
		m := float64(batch * spatial)
		near("dweight", dw, wdw, m)
		near("dbias", db, wdb, m)
		var dxScale float64
		for c := range channels {
			dxScale = max(dxScale, math.Abs(float64(w[c]*st.InvStd[c])))
		}
		near("dx", dx, wdx, 4*dxScale)
		// In place, accumulating.
		BatchNormBackward(dy, dw, db, dy, x, batch, channels, spatial, w, st, true)
		near("dx in place", dy, wdx, 4*dxScale)
		for c := range channels {
			if d := math.Abs(float64(dw[c]) - 2*wdw[c]); d > 2e-5*m {
				t.Fatalf("%s: accumulated dweight[%d] = %g, want %g", name, c, dw[c], 2*wdw[c])
			}
		}
	}
}

func TestActivateBackwardMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, act := range []Activation{Identity, ReLU, LeakyReLU, Tanh, Sigmoid} {
		x, dy := make([]float32, 300), make([]float32, 300)
		for i := range x {
			x[i] = 8*r.Float32() - 4
		}
		x[0] = 0 // PyTorch's one-sided derivative at the kink
		fillUniform(r, dy)
		y := append([]float32(nil), x...)
		Activate(y, act)
		dx := nans(len(x))
		ActivateBackward(dx, dy, y, act)
		for i := range x {
			want := float64(dy[i]) * actDerivNaive(float64(x[i]), act)
			if act == Identity {
				want = float64(dy[i])
			}
			if d := math.Abs(float64(dx[i]) - want); !(d <= 1e-6) {
				t.Fatalf("%v: dx[%d] = %g at x = %g, want %g", act, i, dx[i], x[i], want)
			}
		}
	}
}

func TestActivationBitConstants(t *testing.T) {
	if math.Float32bits(1) != oneBits || math.Float32bits(LeakySlope) != slopeBits {
		t.Fatal("oneBits or slopeBits is not the float it stands for")
	}
	for _, c := range []struct {
		v    float32
		want uint32
	}{{1, 0}, {1e-45, 0}, {0, ^uint32(0)}, {float32(math.Copysign(0, -1)), ^uint32(0)}, {-1, ^uint32(0)}, {float32(math.Inf(-1)), ^uint32(0)}, {float32(math.Inf(1)), 0}} {
		if got := notPositive(math.Float32bits(c.v)); got != c.want {
			t.Errorf("notPositive(%g) = %#x, want %#x", c.v, got, c.want)
		}
	}
}

// TestWeightGradientsSplitAcrossGoroutines holds the weight gradients to the naive
// ones where the GEMM is large enough to be split across goroutines (natively),
// so that parts packing patch panels (packPatches) from the same batch at once
// still add up to the same gradient.
func TestWeightGradientsSplitAcrossGoroutines(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	r := rand.New(rand.NewPCG(19, 20))
	ws := new(Workspace)
	conv := Geometry{Batch: 8, InC: 16, InH: 16, InW: 16, OutC: 32, Kernel: 4, Stride: 2, Pad: 1}
	convT := Geometry{Batch: 8, InC: 32, InH: 8, InW: 8, OutC: 16, Kernel: 4, Stride: 2, Pad: 1}
	for _, procs := range []int{2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, c := range []struct {
			name   string
			g      Geometry
			outLen int
			naive  func(dx, dw, x, w, dy []float64, g Geometry)
			weight func(dw, x, dy []float32, g Geometry, acc bool, ws *Workspace)
			terms  int
		}{
			{"Conv2D", conv, 8 * 32 * 8 * 8, convBackwardNaive, Conv2DBackwardWeight, 8 * 8 * 8},
			{"ConvTranspose2D", convT, 8 * 16 * 16 * 16, convTBackwardNaive, ConvTranspose2DBackwardWeight, 8 * 8 * 8},
		} {
			x, w, dy, _, wantDw, _, magDw := naiveGradientCase(r, c.naive, c.g, c.outLen)
			dw := nans(len(w))
			c.weight(dw, x, dy, c.g, false, ws)
			checkWithin(t, fmt.Sprint(procs, " procs ", c.name), dw, f32s(wantDw), f32s(magDw), c.terms)
		}
	}
}
