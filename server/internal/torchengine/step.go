package torchengine

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/learn"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

// BCE and L1 reduce by the mean (at::Reduction::Mean).
const reductionMean = 1

// trainer holds the two networks and their optimisers on one device. Its methods
// must run on the worker's locked thread.
type trainer struct {
	opts     train.Options
	cfg      model.Config
	device   gotch.Device
	g        generator
	d        discriminator
	optG     *adam
	optD     *adam
	dReinits int // times D was re-initialised, which seeds the next re-initialisation
}

// newTrainer builds G and D with the DCGAN initialisation drawn from opts.Seed.
func newTrainer(opts train.Options, device gotch.Device) (*trainer, error) {
	cfg := opts.Config
	gVals, dVals := learn.InitialWeights(cfg, opts.Seed)
	t := &trainer{opts: opts, cfg: cfg, device: device}
	var err error
	if t.g, err = newGenerator(cfg, device, gVals); err != nil {
		return nil, err
	}
	if t.d, err = newDiscriminator(cfg, device, dVals); err != nil {
		return nil, err
	}
	if t.optG, err = newAdam(t.g.trainable(), opts.LR, opts.Beta1, opts.Beta2); err != nil {
		return nil, err
	}
	if t.optD, err = newAdam(t.d.trainable(), opts.LR, opts.Beta1, opts.Beta2); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *trainer) inputShape(n int) []int64 {
	s := int64(t.cfg.ImageSize)
	return []int64{int64(n), int64(t.cfg.Channels), s, s}
}

// step is one iteration of the official optimize_params on n images x (NCHW).
func (t *trainer) step(x []float32, n int) (l learn.Losses, err error) {
	defer catch(&err)
	var sc scope
	defer sc.drop()
	o := t.opts
	input := fromSlice(&sc, x, t.inputShape(n), t.device)

	// forward_g, forward_d
	z, xhat, zhat := t.g.forward(&sc, input, true)
	predReal, featReal := t.d.forward(&sc, input)
	predFake, _ := t.d.forward(&sc, sc.t(xhat.Detach(false)))

	// backward_g: the official code runs D on x again for f_D(x); those features equal
	// featReal (same weights and batch), and their gradient only reaches D, whose
	// gradients are zeroed before D's own backward pass: reuse them, detached.
	featFake := t.d.net.forward(&sc, t.d.seqs[0], xhat, true)
	adv := meanSquare(&sc, sc.t(featReal.Detach(false)), featFake)
	con := sc.t(xhat.L1Loss(input, reductionMean, false))
	enc := meanSquare(&sc, zhat, z)
	errG := sc.t(adv.MulScalar(ts.FloatScalar(o.WAdv), false))
	errG = sc.t(errG.Add(sc.t(con.MulScalar(ts.FloatScalar(o.WCon), false)), false))
	errG = sc.t(errG.Add(sc.t(enc.MulScalar(ts.FloatScalar(o.WEnc), false)), false))
	t.optG.zeroGrad()
	check(errG.Backward())
	t.optG.update()

	// backward_d
	realBCE := sc.t(predReal.BinaryCrossEntropy(sc.t(predReal.OnesLike(false)), t.d.none, reductionMean, false))
	fakeBCE := sc.t(predFake.BinaryCrossEntropy(sc.t(predFake.ZerosLike(false)), t.d.none, reductionMean, false))
	errD := sc.t(sc.t(realBCE.Add(fakeBCE, false)).MulScalar(ts.FloatScalar(0.5), false))
	t.optD.zeroGrad()
	check(errD.Backward())
	t.optD.update()

	l = learn.Losses{Adv: scalar(&sc, adv), Con: scalar(&sc, con), Enc: scalar(&sc, enc), G: scalar(&sc, errG), D: scalar(&sc, errD)}
	if l.D < learn.DReinitBelow {
		if err := t.reinitD(); err != nil {
			return l, err
		}
	}
	return l, nil
}

// close frees every tensor the trainer holds: both networks' variables (with their
// gradients), the Adam moments and the networks' undefined "no bias" tensor. gotch
// would free them from finalizers, but nothing makes the collector run soon: gotch
// gave each tensor handle 100 KB of Go heap for that, which gotchprep takes out
// (server/cmd/gotchprep/extend.go), so a finished run's weights and Adam state
// (three times the model, on the GPU where it trains there) are freed here instead.
func (t *trainer) close() {
	for _, n := range []*net{t.g.net, t.d.net} {
		for _, p := range n.params {
			_ = p.v.Drop()
		}
		_ = n.none.Drop()
	}
	for _, a := range []*adam{t.optG, t.optD} {
		for i := range a.m {
			_ = a.m[i].Drop()
			_ = a.v[i].Drop()
		}
	}
}

// meanSquare is the official l2_loss: mean((a − b)²), differentiable in both.
func meanSquare(sc *scope, a, b *ts.Tensor) *ts.Tensor {
	d := sc.t(a.Sub(b, false))
	return sc.t(sc.t(d.Square(false)).Mean(gotch.Float, false))
}

// reinitD re-initialises D's weights (not its Adam state), as the official reinit_d.
func (t *trainer) reinitD() error {
	fresh := learn.ReinitD(t.cfg, t.opts.Seed, t.dReinits)
	t.dReinits++
	return t.d.reinit(fresh)
}

// forward runs G without gradients on n images x and copies z, x̂ and ẑ out. train
// selects batch norm's mode (see engine.forward).
func (t *trainer) forward(x []float32, n int, train bool) (z, xhat, zhat []float32, err error) {
	defer catch(&err)
	noGrad(func() {
		var sc scope
		defer sc.drop()
		input := fromSlice(&sc, x, t.inputShape(n), t.device)
		zt, xt, zht := t.g.forward(&sc, input, train)
		z, xhat, zhat = values(&sc, zt), values(&sc, xt), values(&sc, zht)
	})
	return z, xhat, zhat, err
}

// state copies G, D and both Adam states out.
func (t *trainer) state() (s learn.State, err error) {
	if s.G, err = t.g.snapshot(); err != nil {
		return s, err
	}
	if s.D, err = t.d.snapshot(); err != nil {
		return s, err
	}
	err = func() (err error) {
		defer catch(&err)
		var sc scope
		defer sc.drop()
		s.AdamG[0], s.AdamG[1] = t.optG.state(&sc)
		s.AdamD[0], s.AdamD[1] = t.optD.state(&sc)
		return nil
	}()
	s.AdamGStep, s.AdamDStep, s.DReinits = t.optG.step, t.optD.step, t.dReinits
	return s, err
}

// restore overwrites G, D and both Adam states with s.
func (t *trainer) restore(s learn.State) error {
	if err := t.g.load(s.G); err != nil {
		return err
	}
	if err := t.d.load(s.D); err != nil {
		return err
	}
	err := func() (err error) {
		defer catch(&err)
		var sc scope
		defer sc.drop()
		if err := t.optG.restore(&sc, s.AdamGStep, s.AdamG[0], s.AdamG[1]); err != nil {
			return err
		}
		return t.optD.restore(&sc, s.AdamDStep, s.AdamD[0], s.AdamD[1])
	}()
	if err != nil {
		return err
	}
	t.dReinits = s.DReinits
	return nil
}

func deviceName(d gotch.Device) string {
	if d.IsCuda() {
		return fmt.Sprintf("cuda:%d", d.Value)
	}
	return "cpu"
}
