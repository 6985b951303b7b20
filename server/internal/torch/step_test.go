package torch

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// ok panics on err; inside Worker.Do the panic comes back as the job's error.
func ok(x *ts.Tensor, err error) *ts.Tensor {
	if err != nil {
		panic(err)
	}
	return x
}

// doOrFail runs fn on a fresh worker and fails the test on its error.
func doOrFail(t *testing.T, fn func() error) {
	t.Helper()
	w := NewWorker()
	defer w.Close()
	if err := w.Do(fn); err != nil {
		t.Fatal(err)
	}
}

func closeTo(got, want []float64, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d values %v, want %d %v", len(got), got, len(want), want)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			return fmt.Errorf("value %d: got %v, want %v (tolerance %g)\ngot  %v\nwant %v", i, got[i], want[i], tol, got, want)
		}
	}
	return nil
}

func TestLeakyReLU(t *testing.T) {
	doOrFail(t, func() error {
		x := ok(ts.OfSlice([]float32{-2, -0.5, 1.5, 3}))
		x = ok(x.SetRequiresGrad(true, true))
		y := ok(LeakyReLU(x, 0.2))
		if err := closeTo(y.Float64Values(), []float64{-0.4, -0.1, 1.5, 3}, 1e-6); err != nil {
			return fmt.Errorf("LeakyReLU(x, 0.2): %w", err)
		}
		sum := ok(y.Sum(gotch.Float, false))
		if err := sum.Backward(); err != nil {
			return err
		}
		if err := closeTo(ok(x.Grad(false)).Float64Values(), []float64{0.2, 0.2, 1, 1}, 1e-6); err != nil {
			return fmt.Errorf("gradient of LeakyReLU(x, 0.2): %w", err)
		}
		// At libtorch's default slope it matches gotch's binding of leaky_relu.
		want := ok(x.LeakyRelu(false)).Float64Values()
		if err := closeTo(ok(LeakyReLU(x, 0.01)).Float64Values(), want, 1e-7); err != nil {
			return fmt.Errorf("LeakyReLU(x, 0.01) vs libtorch leaky_relu: %w", err)
		}
		return nil
	})
}

// TestConvTranspose2DWeightLayout pins down the gotch bug the helpers work
// around, and that the [in, out, k, k] weight gives the DCGAN shapes.
func TestConvTranspose2DWeightLayout(t *testing.T) {
	doOrFail(t, func() error {
		vs := nn.NewVarStore(gotch.CPU)
		cfg := &nn.ConvTranspose2DConfig{Stride: []int64{2, 2}, Padding: []int64{1, 1}, OutputPadding: []int64{0, 0},
			Dilation: []int64{1, 1}, Groups: 1, WsInit: nn.NewRandnInit(0, 0.02)}
		gotchLayer := nn.NewConvTranspose2D(vs.Root().Sub("gotch"), 16, 8, []int64{4, 4}, cfg)
		if got := gotchLayer.Ws.MustSize(); !slices.Equal(got, []int64{8, 16, 4, 4}) {
			t.Logf("gotch's nn.NewConvTranspose2D now allocates %v: the [in, out, k, k] workaround may be unneeded", got)
		}
		w := ok(NewConvTranspose2DWeight(vs.Root().Sub("ours"), 16, 8, 4, nn.NewRandnInit(0, 0.02)))
		x := ok(ts.Randn([]int64{2, 16, 4, 4}, gotch.Float, gotch.CPU))
		y := ok(ConvTranspose2D(x, w, nil, 2, 1))
		if got := y.MustSize(); !slices.Equal(got, []int64{2, 8, 8, 8}) {
			return fmt.Errorf("ConvTranspose2D output %v, want [2 8 8 8]", got)
		}
		// The gotch layer's weight fails on the same input: 16 != 8.
		if _, err := ConvTranspose2D(x, gotchLayer.Ws, nil, 2, 1); err == nil {
			t.Log("gotch's [out, in, k, k] weight unexpectedly worked")
		}
		return nil
	})
}

// ganomalyNet is a miniature GANomaly generator (encoder, decoder, encoder)
// with the layer types of the real one.
type ganomalyNet struct {
	enc1, enc2, renc1, renc2 *nn.Conv2D
	bnEnc, bnDec, bnRenc     *nn.BatchNorm
	dec1, dec2               *ts.Tensor // [in, out, k, k]
}

func newGanomalyNet(p *nn.Path) *ganomalyNet {
	conv := func(name string, in, out int64) *nn.Conv2D {
		cfg := nn.DefaultConv2DConfig()
		cfg.Stride, cfg.Padding, cfg.Bias = []int64{2, 2}, []int64{1, 1}, false
		cfg.WsInit = nn.NewRandnInit(0, 0.02)
		return nn.NewConv2D(p.Sub(name), in, out, 4, cfg)
	}
	bn := func(name string, c int64) *nn.BatchNorm {
		return nn.BatchNorm2D(p.Sub(name), c, nn.DefaultBatchNormConfig())
	}
	deconv := func(name string, in, out int64) *ts.Tensor {
		return ok(NewConvTranspose2DWeight(p.Sub(name), in, out, 4, nn.NewRandnInit(0, 0.02)))
	}
	return &ganomalyNet{
		enc1: conv("enc1", 1, 8), bnEnc: bn("bn_enc", 8), enc2: conv("enc2", 8, 16),
		dec1: deconv("dec1", 16, 8), bnDec: bn("bn_dec", 8), dec2: deconv("dec2", 8, 1),
		renc1: conv("renc1", 1, 8), bnRenc: bn("bn_renc", 8), renc2: conv("renc2", 8, 16),
	}
}

func conv2d(x *ts.Tensor, c *nn.Conv2D) *ts.Tensor {
	return ok(ts.Conv2d(x, c.Ws, c.Bs, c.Config.Stride, c.Config.Padding, c.Config.Dilation, c.Config.Groups))
}

func batchNorm(x *ts.Tensor, bn *nn.BatchNorm, train bool) *ts.Tensor {
	return ok(ts.BatchNorm(x, bn.Ws, bn.Bs, bn.RunningMean, bn.RunningVar, train, 0.1, 1e-5, false))
}

// encode: [N,1,16,16] -> conv k4 s2 p1 -> [N,8,8,8] -> BN -> LeakyReLU(0.2) -> conv -> [N,16,4,4].
func encode(x *ts.Tensor, c1, c2 *nn.Conv2D, bn *nn.BatchNorm, train bool) *ts.Tensor {
	h := ok(LeakyReLU(batchNorm(conv2d(x, c1), bn, train), 0.2))
	return conv2d(h, c2)
}

// forward returns the latent z, the reconstruction and its latent.
func (n *ganomalyNet) forward(x *ts.Tensor, train bool) (z, xHat, zHat *ts.Tensor) {
	z = encode(x, n.enc1, n.enc2, n.bnEnc, train)
	h := ok(ConvTranspose2D(z, n.dec1, nil, 2, 1)) // [N,8,8,8]
	h = ok(batchNorm(h, n.bnDec, train).Relu(false))
	xHat = ok(ok(ConvTranspose2D(h, n.dec2, nil, 2, 1)).Tanh(false)) // [N,1,16,16]
	zHat = encode(xHat, n.renc1, n.renc2, n.bnRenc, train)
	return z, xHat, zHat
}

// loss is GANomaly's generator loss with a stand-in adversarial term: the
// reconstruction (L1), the latent consistency (MSE) and a BCE of a
// sigmoid score against "real".
func (n *ganomalyNet) loss(x *ts.Tensor) *ts.Tensor {
	const mean = 1 // at::Reduction::Mean
	z, xHat, zHat := n.forward(x, true)
	l1 := ok(xHat.L1Loss(x, mean, false))
	mse := ok(zHat.MseLoss(z, mean, false))
	score := ok(ok(zHat.MeanDim([]int64{1, 2, 3}, false, gotch.Float, false)).Sigmoid(false))
	real := ok(score.OnesLike(false))
	bce := ok(score.BinaryCrossEntropy(real, ts.NewTensor(), mean, false))
	total := ok(l1.MulScalar(ts.FloatScalar(50), false))
	total = ok(total.Add(mse, false))
	return ok(total.Add(bce, false))
}

func TestGANomalyStep(t *testing.T) {
	doOrFail(t, func() error {
		vs := nn.NewVarStore(gotch.CPU)
		net := newGanomalyNet(vs.Root())
		opt, err := nn.DefaultAdamConfig().Build(vs, 1e-2)
		if err != nil {
			return err
		}
		x := ok(ok(ts.Rand([]int64{4, 1, 16, 16}, gotch.Float, gotch.CPU)).MulScalar(ts.FloatScalar(2), false))
		x = ok(x.SubScalar(ts.FloatScalar(1), false)) // in [-1, 1] like tanh

		_, xHat, _ := net.forward(x, true)
		if got := xHat.MustSize(); !slices.Equal(got, []int64{4, 1, 16, 16}) {
			return fmt.Errorf("reconstruction shape %v, want [4 1 16 16]", got)
		}

		var losses []float64
		for step := 0; step < 20; step++ {
			loss := net.loss(x)
			losses = append(losses, loss.Float64Values()[0])
			if err := opt.ZeroGrad(); err != nil {
				return err
			}
			if err := loss.Backward(); err != nil {
				return err
			}
			if step == 0 {
				g := ok(ok(net.dec1.Grad(false)).Abs(false)).Float64Values()
				if slices.Max(g) == 0 {
					return fmt.Errorf("no gradient reached the transposed convolution's weight")
				}
			}
			if err := opt.Step(); err != nil {
				return err
			}
		}
		t.Logf("loss: first %.4f, last %.4f", losses[0], losses[len(losses)-1])
		if !(losses[len(losses)-1] < losses[0]) {
			return fmt.Errorf("Adam did not lower the loss in 20 steps: %v", losses)
		}
		if slices.Max(ok(net.bnEnc.RunningMean.Abs(false)).Float64Values()) == 0 {
			return fmt.Errorf("training-mode batch norm did not update its running mean")
		}
		return checkBatchNormModes(net, x)
	})
}

// checkBatchNormModes: in eval mode a sample's output does not depend on the
// rest of the batch (running statistics); in train mode it does.
func checkBatchNormModes(net *ganomalyNet, x *ts.Tensor) error {
	var err error
	ts.NoGrad(func() {
		first := ok(x.Narrow(0, 0, 1, false))
		h, h1 := conv2d(x, net.enc1), conv2d(first, net.enc1)
		evalAll := ok(batchNorm(h, net.bnEnc, false).Narrow(0, 0, 1, false)).Float64Values()
		evalOne := batchNorm(h1, net.bnEnc, false).Float64Values()
		if e := closeTo(evalOne, evalAll, 1e-5); e != nil {
			err = fmt.Errorf("eval-mode batch norm depends on the batch: %w", e)
			return
		}
		trainAll := ok(batchNorm(h, net.bnEnc, true).Narrow(0, 0, 1, false)).Float64Values()
		if closeTo(trainAll, evalAll, 1e-3) == nil {
			err = fmt.Errorf("train-mode batch norm gave the eval-mode output")
		}
	})
	return err
}

// TestZeroGrads checks that gradients become zero in place and that a parameter
// without a gradient keeps none (PyTorch 1.13's zero_grad()).
func TestZeroGrads(t *testing.T) {
	doOrFail(t, func() error {
		a := ok(ok(ts.OfSlice([]float32{1, -2, 3})).SetRequiresGrad(true, true))
		b := ok(ok(ts.OfSlice([]float32{4, 5})).SetRequiresGrad(true, true))
		if err := ok(ok(a.Square(false)).Sum(gotch.Float, false)).Backward(); err != nil {
			return err
		}
		g := ok(a.Grad(false))
		if err := closeTo(g.Float64Values(), []float64{2, -4, 6}, 1e-6); err != nil {
			return fmt.Errorf("gradient before: %w", err)
		}
		if err := ZeroGrads([]*ts.Tensor{a, b}); err != nil {
			return err
		}
		if err := closeTo(g.Float64Values(), []float64{0, 0, 0}, 0); err != nil {
			return fmt.Errorf("the same gradient tensor after ZeroGrads: %w", err)
		}
		if ok(b.Grad(false)).MustDefined() {
			return fmt.Errorf("b had no gradient and has one after ZeroGrads")
		}
		return nil
	})
}

// TestLibtchErrorsComeBack checks that an exception inside ganomaly_ops.cpp comes
// back as an ordinary error (through gotch's thread-local last error), and that the
// next call does not see it again.
func TestLibtchErrorsComeBack(t *testing.T) {
	doOrFail(t, func() error {
		p := ok(ok(ts.OfSlice([]float32{1, 2, 3})).SetRequiresGrad(true, true))
		if err := ok(ok(p.Square(false)).Sum(gotch.Float, false)).Backward(); err != nil {
			return err
		}
		wrong := ok(ts.OfSlice([]float32{0, 0})) // m and v of the wrong size
		err := AdamStep([]*ts.Tensor{p}, []*ts.Tensor{wrong}, []*ts.Tensor{wrong}, 1e-3, 0.5, 0.999, 1e-8, 1)
		if err == nil || !strings.Contains(err.Error(), "size") {
			return fmt.Errorf("AdamStep with moments of the wrong size: err = %v, want libtorch's size error", err)
		}
		before := p.Float64Values()
		m, v := ok(p.ZerosLike(false)), ok(p.ZerosLike(false))
		q := ok(ok(ts.OfSlice([]float32{5, 6})).SetRequiresGrad(true, true)) // no gradient: skipped
		// The second parameter's moments are wrong: the first must not move either.
		err = AdamStep([]*ts.Tensor{p, q}, []*ts.Tensor{m, m}, []*ts.Tensor{v, v}, 1e-3, 0.5, 0.999, 1e-8, 1)
		if err == nil {
			return fmt.Errorf("AdamStep with the second parameter's moments of the wrong size: no error")
		}
		if err := closeTo(p.Float64Values(), before, 0); err != nil {
			return fmt.Errorf("a failed AdamStep changed the first parameter: %w", err)
		}
		if err := closeTo(m.Float64Values(), []float64{0, 0, 0}, 0); err != nil {
			return fmt.Errorf("a failed AdamStep changed the first parameter's moment: %w", err)
		}
		if err := AdamStep([]*ts.Tensor{p}, []*ts.Tensor{m}, []*ts.Tensor{v}, 1e-3, 0.5, 0.999, 1e-8, 1); err != nil {
			return fmt.Errorf("a good AdamStep after a failed one: %w", err)
		}
		return nil
	})
}
