package train

import (
	"context"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/learn"
	"github.com/ganomaly-go/ganomaly-go/server/data"
)

// Losses are the terms of one training step: the pure-Go trainer's, so that both
// trainers report alike.
type Losses = learn.Losses

// BCE and L1 reduce by the mean (at::Reduction::Mean).
const reductionMean = 1

// trainer holds the two networks and their optimisers on one device. Its methods
// must run on the worker's locked thread.
type trainer struct {
	ctx      context.Context // checked between batches when scoring; may be nil
	opts     Options
	cfg      model.Config
	device   gotch.Device
	g        generator
	d        discriminator
	optG     *adam
	optD     *adam
	dReinits int // times D was re-initialised, which seeds the next re-initialisation
	batchBuf []float32
}

// newTrainer builds G and D with the DCGAN initialisation drawn from opts.Seed.
func newTrainer(opts Options, device gotch.Device) (*trainer, error) {
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
func (t *trainer) step(x []float32, n int) (l Losses, err error) {
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
	t.optG.zeroGrad(&sc)
	check(errG.Backward())
	t.optG.update(&sc)

	// backward_d
	realBCE := sc.t(predReal.BinaryCrossEntropy(sc.t(predReal.OnesLike(false)), t.d.none, reductionMean, false))
	fakeBCE := sc.t(predFake.BinaryCrossEntropy(sc.t(predFake.ZerosLike(false)), t.d.none, reductionMean, false))
	errD := sc.t(sc.t(realBCE.Add(fakeBCE, false)).MulScalar(ts.FloatScalar(0.5), false))
	t.optD.zeroGrad(&sc)
	check(errD.Backward())
	t.optD.update(&sc)

	l = Losses{Adv: scalar(&sc, adv), Con: scalar(&sc, con), Enc: scalar(&sc, enc), G: scalar(&sc, errG), D: scalar(&sc, errD)}
	if l.D < learn.DReinitBelow {
		if err := t.reinitD(); err != nil {
			return l, err
		}
	}
	return l, nil
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

// scored holds a network's per-image outputs over a set.
type scored struct {
	scores []float64 // raw anomaly scores A(x)
	recon  []float64 // mean |x̂ − x| per image
	z      []float32 // latent codes, n×nz, only from scoreLatent
}

// score runs G over set in batches of the batch size, in order, without gradients.
// train selects batch norm's mode: false (eval, running statistics) is how the
// exported model scores; true is the official test pass (batch statistics, and
// running statistics updated by the test batches).
func (t *trainer) score(set *data.Set, train bool, kind model.ScoreKind) (scored, error) {
	return t.scoreKeeping(set, train, kind, false)
}

// scoreLatent is score that also keeps every image's z, for the model card's map.
func (t *trainer) scoreLatent(set *data.Set, kind model.ScoreKind) (scored, error) {
	return t.scoreKeeping(set, false, kind, true)
}

func (t *trainer) scoreKeeping(set *data.Set, train bool, kind model.ScoreKind, keepZ bool) (out scored, err error) {
	defer catch(&err)
	b := t.opts.BatchSize
	nz := t.cfg.Latent
	l := set.ImageLen()
	indices := make([]int, 0, b)
	noGrad(func() {
		for start := 0; start < set.N; start += b {
			if t.ctx != nil && t.ctx.Err() != nil {
				err = t.ctx.Err()
				return
			}
			n := min(b, set.N-start)
			indices = indices[:0]
			for i := range n {
				indices = append(indices, start+i)
			}
			t.batchBuf = set.Batch(t.batchBuf, indices)
			func() {
				var sc scope
				defer sc.drop()
				x := fromSlice(&sc, t.batchBuf, t.inputShape(n), t.device)
				z, xhat, zhat := t.g.forward(&sc, x, train)
				zv, xv, zhv := values(&sc, z), values(&sc, xhat), values(&sc, zhat)
				if keepZ {
					out.z = append(out.z, zv[:n*nz]...)
				}
				for i := range n {
					out.scores = append(out.scores, model.AnomalyScore(zv[i*nz:(i+1)*nz], zhv[i*nz:(i+1)*nz], kind))
					out.recon = append(out.recon, meanAbsDiff(xv[i*l:(i+1)*l], t.batchBuf[i*l:(i+1)*l]))
				}
			}()
		}
	})
	return out, err
}

func meanAbsDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return s / float64(len(a))
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
