package torchengine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/sugarme/gotch"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/server/internal/torch"
)

// onWorker runs fn on a fresh locked torch worker and fails the test on its error.
func onWorker(t testing.TB, fn func() error) {
	t.Helper()
	w := torch.NewWorker()
	defer w.Close()
	if err := w.Do(fn); err != nil {
		t.Fatal(err)
	}
}

// Cross-framework tolerance: libtorch and model/kernel sum the same products in
// different orders (and libtorch may use FMA and blocked GEMMs), so float32 results
// differ by rounding that grows with the depth of the network. A value passes when
// |gotch − pure Go| ≤ crossAbs + crossRel·|gotch|.
const (
	crossAbs = 2e-5
	crossRel = 1e-4
	// minSpread is the least largest |value| an output must reach for the comparison
	// to say something: all zeros would pass the tolerance above.
	minSpread = 0.05
)

// heScale rescales the convolution weights of DCGAN's N(0, 0.02) initialisation to a
// standard deviation of 1/√fan-in, so that activations stay of order one through
// the network: with the raw initialisation x̂ and ẑ came out near 1e-8, where any
// tolerance passes.
func heScale(cfg model.Config, tensors map[string][]float32) {
	arch := cfg.Generator()
	for _, seq := range []model.Sequential{arch.Encoder1, arch.Decoder, arch.Encoder2} {
		for _, m := range seq {
			var fanIn int
			switch m.Op {
			case model.OpConv:
				fanIn = m.In * m.Kernel * m.Kernel
			case model.OpConvTranspose:
				fanIn = m.In * m.Kernel * m.Kernel / (m.Stride * m.Stride) // each output sees 1/stride² of the taps
			default:
				continue
			}
			f := float32(1 / (0.02 * math.Sqrt(float64(fanIn))))
			for i, v := range tensors[m.Path+".weight"] {
				tensors[m.Path+".weight"][i] = v * f
			}
		}
	}
}

// compareOutputs runs G in gotch (eval mode) and the pure-Go generator built from
// tensors on the same inputs and returns the largest differences of z, x̂ and ẑ.
func compareOutputs(t *testing.T, g generator, cfg model.Config, tensors map[string][]float32, x []float32, n int) {
	t.Helper()
	var gz, gxhat, gzhat []float32
	func() {
		var sc scope
		defer sc.drop()
		noGrad(func() {
			in := fromSlice(&sc, x, []int64{int64(n), int64(cfg.Channels), int64(cfg.ImageSize), int64(cfg.ImageSize)}, g.device)
			z, xhat, zhat := g.forward(&sc, in, false)
			gz, gxhat, gzhat = values(&sc, z), values(&sc, xhat), values(&sc, zhat)
		})
	}()
	pure, err := model.NewGenerator(cfg, tensors)
	if err != nil {
		t.Fatal(err)
	}
	z, xhat, zhat := pure.Forward(x, n)
	for _, c := range []struct {
		name      string
		got, want []float32
	}{{"z", z, gz}, {"x̂", xhat, gxhat}, {"ẑ", zhat, gzhat}} {
		if len(c.got) != len(c.want) {
			t.Fatalf("%s: pure Go gave %d values, gotch %d", c.name, len(c.got), len(c.want))
		}
		maxDiff, maxRef, worst := 0.0, 0.0, 0
		for i := range c.got {
			d := math.Abs(float64(c.got[i]) - float64(c.want[i]))
			if d > maxDiff {
				maxDiff, worst = d, i
			}
			maxRef = math.Max(maxRef, math.Abs(float64(c.want[i])))
		}
		t.Logf("%s: max |gotch − pure Go| = %.3g (largest |value| %.3g) over %d values", c.name, maxDiff, maxRef, len(c.got))
		if maxRef < minSpread {
			t.Errorf("%s: values up to %.3g only: too small for a tolerance of %g to mean anything", c.name, maxRef, crossAbs)
		}
		for i := range c.got {
			if d := math.Abs(float64(c.got[i]) - float64(c.want[i])); d > crossAbs+crossRel*math.Abs(float64(c.want[i])) {
				t.Errorf("%s[%d]: pure Go %v, gotch %v (difference %.3g beyond %g + %g·|gotch|; worst at %d)", c.name, i, c.got[i], c.want[i], d, crossAbs, crossRel, worst)
				break
			}
		}
	}
	// The scores agree too.
	nz := cfg.Latent
	worst := 0.0
	for i := range n {
		a := model.AnomalyScore(z[i*nz:(i+1)*nz], zhat[i*nz:(i+1)*nz], model.ScoreMSE)
		b := model.AnomalyScore(gz[i*nz:(i+1)*nz], gzhat[i*nz:(i+1)*nz], model.ScoreMSE)
		worst = math.Max(worst, math.Abs(a-b)/math.Max(b, 1e-12))
	}
	t.Logf("anomaly score: max relative difference %.3g over %d images", worst, n)
	if worst > 1e-2 {
		t.Errorf("anomaly scores differ by up to %.3g relative", worst)
	}
}

func randomImages(rng *rand.Rand, n, size int) []float32 {
	x := make([]float32, n*size)
	for i := range x {
		x[i] = float32(rng.Float64()*2 - 1)
	}
	return x
}

// TestCrossCheckRandomGenerator is the test that holds the project together: a
// generator built in libtorch from model's layer list, with non-trivial batch-norm
// running statistics, is exported as a weights file, read back by package model, and
// gives the same z, x̂ and ẑ as libtorch in eval mode.
func TestCrossCheckRandomGenerator(t *testing.T) {
	for _, cfg := range []model.Config{
		model.DefaultConfig(),
		{ImageSize: 64, Channels: 3, Latent: 20, Width: 8, ExtraLayers: 1},
	} {
		t.Run(cfgName(cfg), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			onWorker(t, func() error {
				init := model.InitTensors(cfg.Generator().Params(), rng)
				heScale(cfg, init)
				g, err := newGenerator(cfg, gotch.CPU, init)
				if err != nil {
					return err
				}
				// Train-mode forwards on shifted, scaled batches move the running
				// statistics well away from (0, 1), so eval mode depends on them.
				for i := range 5 {
					x := randomImages(rng, 16, cfg.InputLen())
					for j := range x {
						x[j] = x[j]*float32(0.5+0.2*float64(i)) + 0.1*float32(i)
					}
					func() {
						var sc scope
						defer sc.drop()
						noGrad(func() {
							g.forward(&sc, fromSlice(&sc, x, []int64{16, int64(cfg.Channels), int64(cfg.ImageSize), int64(cfg.ImageSize)}, gotch.CPU), true)
						})
					}()
				}
				tensors, err := g.snapshot()
				if err != nil {
					return err
				}
				checkRunningStatsMoved(t, cfg, tensors)
				f := exportForTest(t, cfg, tensors)
				compareOutputs(t, g, cfg, f.Tensors, randomImages(rng, 8, cfg.InputLen()), 8)
				return nil
			})
		})
	}
}

func cfgName(c model.Config) string {
	return fmt.Sprintf("size%d_nc%d_nz%d_ngf%d_extra%d", c.ImageSize, c.Channels, c.Latent, c.Width, c.ExtraLayers)
}

// checkRunningStatsMoved fails when every running mean is still 0: the cross-check
// would then not test the running statistics at all.
func checkRunningStatsMoved(t *testing.T, cfg model.Config, tensors map[string][]float32) {
	t.Helper()
	moved := 0.0
	for _, p := range cfg.Generator().Params() {
		if p.Buffer {
			for _, v := range tensors[p.Name] {
				if p.Init == "zeros" {
					moved = math.Max(moved, math.Abs(float64(v)))
				} else {
					moved = math.Max(moved, math.Abs(float64(v)-1))
				}
			}
		}
	}
	t.Logf("running statistics: max distance from their initial values %.3g", moved)
	if moved < 1e-3 {
		t.Fatal("running statistics did not move: the cross-check would not exercise them")
	}
}

// exportForTest writes tensors as a weights file and reads it back through package
// model, so the comparison covers the file format and the names.
func exportForTest(t *testing.T, cfg model.Config, tensors map[string][]float32) *model.WeightsFile {
	t.Helper()
	f := &model.WeightsFile{Config: cfg, Tensors: tensors,
		Calibration: model.Calibration{Score: model.ScoreMSE, Min: 0, Max: 1, Threshold: 0.5, Method: "test"}}
	path := filepath.Join(t.TempDir(), "g.safetensors")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := model.ReadWeightsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return back
}
