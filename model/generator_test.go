package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model/kernel"
)

// randomTensors gives a generator whose batch norms are far from identity, so that a
// mistake in folding them would show.
func randomTensors(c Config, seed uint64) map[string][]float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	params := c.Generator().Params()
	ts := InitTensors(params, rng)
	for _, p := range params {
		v := ts[p.Name]
		switch {
		case p.Init == "normal(0,0.02)": // conv weights: scale up so activations do not vanish
			for i := range v {
				v[i] *= 5
			}
		case p.Buffer && p.Init == "ones": // running_var
			for i := range v {
				v[i] = 0.5 + rng.Float32()
			}
		case p.Buffer: // running_mean
			for i := range v {
				v[i] = 0.2 * float32(rng.NormFloat64())
			}
		case p.Init == "zeros": // BN bias
			for i := range v {
				v[i] = 0.1 * float32(rng.NormFloat64())
			}
		}
	}
	return ts
}

func randomImages(c Config, n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, n*c.InputLen())
	for i := range x {
		x[i] = 2*rng.Float32() - 1
	}
	return x
}

// referenceForward walks the layer list module by module with the naive kernels, one
// image at a time: no fusion, no folding, no shared buffers.
func referenceForward(t *testing.T, seq Sequential, ts map[string][]float32, x []float32, size int) ([]float32, int) {
	t.Helper()
	ch := seq[0].In
	for _, m := range seq {
		out := m.OutSize(size)
		g := kernel.Geometry{Batch: 1, InC: m.In, InH: size, InW: size, OutC: m.Out, Kernel: m.Kernel, Stride: m.Stride, Pad: m.Pad}
		switch m.Op {
		case OpConv:
			y := make([]float32, m.Out*out*out)
			kernel.Conv2DRef(y, x, ts[m.Path+".weight"], g)
			x = y
		case OpConvTranspose:
			y := make([]float32, m.Out*out*out)
			kernel.ConvTranspose2DRef(y, x, ts[m.Path+".weight"], g)
			x = y
		case OpBatchNorm:
			kernel.BatchNormRef(x, 1, ch, size*size, ts[m.Path+".weight"], ts[m.Path+".bias"],
				ts[m.Path+".running_mean"], ts[m.Path+".running_var"], BatchNormEps)
		case OpLeakyReLU:
			for i, v := range x {
				if v < 0 {
					x[i] = LeakySlope * v
				}
			}
		case OpReLU:
			for i, v := range x {
				x[i] = max(v, 0)
			}
		case OpTanh:
			for i, v := range x {
				x[i] = float32(math.Tanh(float64(v)))
			}
		case OpSigmoid:
			for i, v := range x {
				x[i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
		}
		size, ch = out, m.Out
	}
	return x, size
}

func maxAbsDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// relDiff is max|a − b| relative to the largest magnitude in the reference b (at least 1).
func relDiff(a, b []float32) float64 {
	scale := 1.0
	for _, v := range b {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	return maxAbsDiff(a, b) / scale
}

// Tolerance: one layer's float32 sums of up to 4096 products, in a different order on
// each path, agree to about 1e-6 of the tensor's scale; through the generator's 12
// layers (whose random weights amplify by about 3× each) the default config reaches
// about 5e-5. 1e-4 keeps a margin without hiding a wrong weight or a misfolded batch
// norm, which move outputs by 1e-2 of scale or more.
const forwardTolerance = 1e-4

func TestForwardMatchesReference(t *testing.T) {
	configs := []Config{
		{ImageSize: 32, Channels: 1, Latent: 100, Width: 16},
		{ImageSize: 16, Channels: 3, Latent: 8, Width: 4, ExtraLayers: 1},
		{ImageSize: 64, Channels: 1, Latent: 5, Width: 2, ExtraLayers: 2},
	}
	if !testing.Short() {
		configs = append(configs, DefaultConfig())
	}
	for _, c := range configs {
		ts := randomTensors(c, 7)
		gen, err := NewGenerator(c, ts)
		if err != nil {
			t.Fatal(err)
		}
		const n = 3
		x := randomImages(c, n, 9)
		z, xhat, zhat := gen.Forward(x, n)
		arch := c.Generator()
		var worst float64
		for i := range n {
			img := append([]float32(nil), x[i*c.InputLen():(i+1)*c.InputLen()]...)
			wz, _ := referenceForward(t, arch.Encoder1, ts, img, c.ImageSize)
			wx, _ := referenceForward(t, arch.Decoder, ts, append([]float32(nil), wz...), 1)
			wzh, _ := referenceForward(t, arch.Encoder2, ts, append([]float32(nil), wx...), c.ImageSize)
			nz := c.Latent
			worst = max(worst,
				relDiff(z[i*nz:(i+1)*nz], wz),
				relDiff(xhat[i*c.InputLen():(i+1)*c.InputLen()], wx),
				relDiff(zhat[i*nz:(i+1)*nz], wzh))
		}
		t.Logf("%+v: max |fast − reference| / scale = %.3g", c, worst)
		if worst > forwardTolerance {
			t.Errorf("%+v: max difference %.3g exceeds %g", c, worst, forwardTolerance)
		}
		var spread float64
		for _, v := range z {
			spread = max(spread, math.Abs(float64(v)))
		}
		if spread < 1e-3 {
			t.Errorf("%+v: z is all near zero (%g): the test would not see a wrong weight", c, spread)
		}
	}
}

// Eval-mode batch norm: an image's outputs must not depend on the batch it comes in.
func TestForwardBatchIndependent(t *testing.T) {
	c := Config{ImageSize: 32, Channels: 1, Latent: 20, Width: 8}
	gen, err := NewGenerator(c, randomTensors(c, 3))
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	x := randomImages(c, n, 4)
	zb, _, zhb := gen.Forward(x, n)
	zb, zhb = append([]float32(nil), zb...), append([]float32(nil), zhb...)
	for i := range n {
		z, _, zh := gen.Forward(x[i*c.InputLen():], 1)
		if d := max(maxAbsDiff(z, zb[i*20:(i+1)*20]), maxAbsDiff(zh, zhb[i*20:(i+1)*20])); d > 1e-5 {
			t.Errorf("image %d alone differs from in a batch by %g", i, d)
		}
	}
}

func TestForwardDoesNotAllocate(t *testing.T) {
	c := Config{ImageSize: 32, Channels: 1, Latent: 100, Width: 16}
	gen, err := NewGenerator(c, randomTensors(c, 1))
	if err != nil {
		t.Fatal(err)
	}
	x := randomImages(c, 4, 1)
	gen.Forward(x, 4)
	if allocs := testing.AllocsPerRun(5, func() { gen.Forward(x, 4); gen.Forward(x, 1) }); allocs != 0 {
		t.Errorf("Forward allocates %v times per call after warm-up", allocs)
	}
}

func TestNewGeneratorRefusesBadTensors(t *testing.T) {
	c := Config{ImageSize: 16, Channels: 1, Latent: 4, Width: 2}
	ts := randomTensors(c, 1)
	name := c.Generator().Decoder[0].Path + ".weight"
	if _, ok := ts[name]; !ok {
		t.Fatalf("no tensor %q", name)
	}
	delete(ts, name)
	if _, err := NewGenerator(c, ts); err == nil {
		t.Error("missing tensor accepted")
	}
	ts = randomTensors(c, 1)
	ts["encoder2.main.final-4-1-conv.weight"] = ts["encoder2.main.final-4-1-conv.weight"][1:]
	if _, err := NewGenerator(c, ts); err == nil {
		t.Error("short tensor accepted")
	}
}

func BenchmarkGeneratorForward(b *testing.B) {
	small := DefaultConfig()
	small.Width = 16
	for _, bc := range []struct {
		name  string
		cfg   Config
		batch int
	}{
		{"default-32x32-ngf64/batch1", DefaultConfig(), 1},
		{"default-32x32-ngf64/batch64", DefaultConfig(), 64},
		{"browser-32x32-ngf16/batch1", small, 1},
		{"browser-32x32-ngf16/batch64", small, 64},
	} {
		b.Run(bc.name, func(b *testing.B) {
			gen, err := NewGenerator(bc.cfg, randomTensors(bc.cfg, 1))
			if err != nil {
				b.Fatal(err)
			}
			x := randomImages(bc.cfg, bc.batch, 1)
			gen.Forward(x, bc.batch)
			b.ResetTimer()
			for b.Loop() {
				gen.Forward(x, bc.batch)
			}
			images := float64(b.N * bc.batch)
			secs := b.Elapsed().Seconds()
			b.ReportMetric(images/secs, "images/s")
			b.ReportMetric(images*float64(bc.cfg.FLOPs())/secs/1e9, "GFLOP/s")
		})
	}
}
