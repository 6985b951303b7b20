package learn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ganomaly-go/ganomaly-go/model"
)

// Hyper are the step's hyperparameters. Start from [DefaultHyper].
type Hyper struct {
	// LR, Beta1 and Beta2 configure Adam for both networks (official 2e-4, 0.5, 0.999).
	LR, Beta1, Beta2 float64
	// WAdv, WCon and WEnc weight the feature-matching, L1 and latent terms of G's loss
	// (official 1, 50, 1).
	WAdv, WCon, WEnc float64
}

// DefaultHyper returns the official hyperparameters.
func DefaultHyper() Hyper {
	return Hyper{LR: 2e-4, Beta1: 0.5, Beta2: 0.999, WAdv: 1, WCon: 50, WEnc: 1}
}

// Validate reports the first hyperparameter out of its range.
func (h Hyper) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(h.LR) || h.LR <= 0 || h.LR > 1:
		return fmt.Errorf("learning rate %v: want a number in (0, 1]", h.LR)
	case !finite(h.Beta1) || h.Beta1 < 0 || h.Beta1 >= 1, !finite(h.Beta2) || h.Beta2 < 0 || h.Beta2 >= 1:
		return fmt.Errorf("Adam betas %v, %v: want numbers in [0, 1)", h.Beta1, h.Beta2)
	case !finite(h.WAdv) || !finite(h.WCon) || !finite(h.WEnc) || h.WAdv < 0 || h.WCon < 0 || h.WEnc < 0:
		return fmt.Errorf("loss weights %v, %v, %v: want finite numbers ≥ 0", h.WAdv, h.WCon, h.WEnc)
	}
	return nil
}

// DReinitBelow is the official threshold on D's loss under which D is re-initialised.
const DReinitBelow = 1e-5

// Streams of the PCG generators seeded by a run's seed, one per use, so that their
// draws never overlap; the libtorch trainer uses the same ones, so that both start
// from the same weights and shuffle alike.
const (
	StreamInit    = 0x696e6974 // "init": G's and then D's first weights
	StreamReinitD = 0x72656944 // "reiD": D's re-initialisations, one generator each
	StreamShuffle = 0x73687566 // "shuf": each epoch's batch order
)

// InitialWeights returns the official (DCGAN) initialisation of G and D for cfg drawn
// from seed: what both trainers start from.
func InitialWeights(cfg model.Config, seed int64) (g, d map[string][]float32) {
	rng := rand.New(rand.NewPCG(uint64(seed), StreamInit))
	g = model.InitTensors(cfg.Generator().Params(), rng)
	d = model.InitTensors(cfg.Discriminator().Params(), rng)
	return g, d
}

// ReinitD returns the DCGAN initialisation of D for its k-th re-initialisation (from
// 0) in a run seeded with seed.
func ReinitD(cfg model.Config, seed int64, k int) map[string][]float32 {
	rng := rand.New(rand.NewPCG(uint64(seed)+uint64(k), StreamReinitD))
	return model.InitTensors(cfg.Discriminator().Params(), rng)
}

// Trainer holds G and D, their Adam states and the tapes of one step. It is not safe
// for concurrent use.
type Trainer struct {
	cfg      model.Config
	hyper    Hyper
	seed     int64
	g, d     *net
	optG     *adam
	optD     *adam
	dReinits int

	// Tapes of the last step: G's three chains, D on x and on x̂.
	e1, dec, e2, dReal, dFake pass
	featEnd                   int // D's features are layers [0, featEnd) of its one chain
	dXhat, dZ                 []float32
}

// NewTrainer builds G and D for cfg from seed (see [InitialWeights]).
func NewTrainer(cfg model.Config, h Hyper, seed int64) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g, d := InitialWeights(cfg, seed)
	return NewTrainerFrom(cfg, h, seed, g, d)
}

// NewTrainerFrom builds a trainer from given tensors of G and D (every parameter and
// running statistic, by official name), with fresh Adam states. seed still drives D's
// re-initialisations.
func NewTrainerFrom(cfg model.Config, h Hyper, seed int64, g, d map[string][]float32) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, hyper: h, seed: seed}
	ga, da := cfg.Generator(), cfg.Discriminator()
	var err error
	if t.g, err = newNet(g, []int{cfg.ImageSize, 1, cfg.ImageSize}, ga.Encoder1, ga.Decoder, ga.Encoder2); err != nil {
		return nil, err
	}
	chain := append(append(model.Sequential{}, da.Features...), da.Classifier...)
	if t.d, err = newNet(d, []int{cfg.ImageSize}, chain); err != nil {
		return nil, err
	}
	t.featEnd = len(da.Features)
	t.optG = newAdam(len(t.g.values), h.LR, h.Beta1, h.Beta2)
	t.optD = newAdam(len(t.d.values), h.LR, h.Beta1, h.Beta2)
	return t, nil
}

// Step is one iteration of the official optimize_params on n images x (NCHW, values
// in [−1, 1]), as the libtorch engine (server/internal/torchengine) does it:
//
//   - G runs once in train mode (x → z → x̂ → ẑ); D runs on x and on x̂, train
//     mode; D's features of x̂ serve the feature-matching term (the official code
//     runs D's features on x̂ a third time, which only updates their running
//     statistics once more: done here without recomputing them).
//   - G's loss w_adv·mean((f(x) − f(x̂))²) + w_con·|x̂ − x| + w_enc·mean((ẑ − z)²)
//     and its Adam step; D's loss ½[BCE(D(x), 1) + BCE(D(x̂), 0)] and its Adam step.
//   - D is re-initialised (weights only; Adam state kept) when its loss falls below
//     DReinitBelow.
func (t *Trainer) Step(x []float32, n int) (Losses, error) {
	l, err := t.Gradients(x, n)
	if err != nil {
		return l, err
	}
	return l, t.Apply(l.D < DReinitBelow)
}

// Gradients runs the forward and backward passes of a step on n images x and leaves
// G's and D's gradients in [Trainer.Grads] without changing any weight (the running
// statistics of batch norm are updated, as the forward passes of a step update them).
func (t *Trainer) Gradients(x []float32, n int) (l Losses, err error) {
	if n < 1 || len(x) != n*t.cfg.InputLen() {
		return l, fmt.Errorf("learn: a batch of %d images needs %d values, got %d", n, n*t.cfg.InputLen(), len(x))
	}
	h := t.hyper
	g, d := t.g, t.d
	clear(g.grads)
	clear(d.grads)

	// Forward.
	z := g.forward(0, &t.e1, x, n, true, true)
	xhat := g.forward(1, &t.dec, z, n, true, true)
	zhat := g.forward(2, &t.e2, xhat, n, true, true)
	predReal := d.forward(0, &t.dReal, x, n, true, true)
	predFake := d.forward(0, &t.dFake, xhat, n, true, true)
	featReal, featFake := t.dReal.acts[t.featEnd], t.dFake.acts[t.featEnd]
	for i, layer := range d.chains[0][:t.featEnd] {
		if layer.mod.Op == model.OpBatchNorm {
			d.chains[0][i].updateRunning(t.dFake.stats[i], n*layer.outSize*layer.outSize)
		}
	}

	// G's loss and backward pass. x̂ gets ∂/∂x̂ from the features (through D, whose
	// weight gradients are not wanted here), from L1 and from encoder2; z from the
	// decoder and from the latent term.
	dFeat := d.outGrad(0, &t.dFake, t.featEnd)
	l.Adv = meanSquare(featFake, featReal, dFeat, h.WAdv)
	dXhatAdv := d.backward(0, &t.dFake, t.featEnd, false, true)
	dZhat := g.outGrad(2, &t.e2, len(g.chains[2]))
	l.Enc = meanSquare(zhat, z, dZhat, h.WEnc)
	t.dZ = ensure(&t.dZ, len(z))
	for i, v := range dZhat {
		t.dZ[i] = -v
	}
	dXhatE2 := g.backward(2, &t.e2, len(g.chains[2]), true, true)
	dXhat := g.outGrad(1, &t.dec, len(g.chains[1]))
	for i := range dXhat {
		dXhat[i] = dXhatAdv[i] + dXhatE2[i]
	}
	l.Con = meanAbs(xhat, x, dXhat, h.WCon)
	dZDec := g.backward(1, &t.dec, len(g.chains[1]), true, true)
	dZ := g.outGrad(0, &t.e1, len(g.chains[0]))
	for i := range dZ {
		dZ[i] = t.dZ[i] + dZDec[i]
	}
	g.backward(0, &t.e1, len(g.chains[0]), true, false)
	l.G = h.WAdv*l.Adv + h.WCon*l.Con + h.WEnc*l.Enc

	// D's loss and backward pass, over both of its runs.
	end := len(d.chains[0])
	real := bce(predReal, 1, d.outGrad(0, &t.dReal, end), 0.5)
	d.backward(0, &t.dReal, end, true, false)
	fake := bce(predFake, 0, d.outGrad(0, &t.dFake, end), 0.5)
	d.backward(0, &t.dFake, end, true, false)
	l.D = 0.5 * (real + fake)

	if !finite(l.G) || !finite(l.D) {
		return l, fmt.Errorf("%w (G loss %v, D loss %v)", ErrDiverged, l.G, l.D)
	}
	return l, nil
}

// ErrDiverged is returned when a step's losses are not finite.
var ErrDiverged = errors.New("training diverged: lower the learning rate")

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Grads returns G's and D's gradient slices (in the order of their trainable
// parameters), for averaging across data-parallel trainers between Gradients and
// Apply. They are the trainer's own storage.
func (t *Trainer) Grads() (g, d []float32) { return t.g.grads, t.d.grads }

// Buffers returns G's and D's running statistics of batch norm (flat, in the order of
// their parameters). Data-parallel trainers each update theirs from their own shard;
// averaging them after each step keeps the trainers' models identical. They are the
// trainer's own storage.
func (t *Trainer) Buffers() (g, d []float32) { return t.g.buffers, t.d.buffers }

// Apply takes G's and D's Adam steps with the gradients in Grads, then
// re-initialises D when reinitD is set (see Step).
func (t *Trainer) Apply(reinitD bool) error {
	t.optG.update(t.g.values, t.g.grads)
	t.optD.update(t.d.values, t.d.grads)
	if reinitD {
		fresh := ReinitD(t.cfg, t.seed, t.dReinits)
		t.dReinits++
		return t.d.load(fresh, true)
	}
	return nil
}

// State is everything a run needs to continue from where a trainer is: every tensor
// of G and D by official name, the Adam moments of their trainable tensors, the
// Adam step counts and the number of D re-initialisations so far.
type State struct {
	G, D                 map[string][]float32
	AdamG, AdamD         [2]map[string][]float32 // exp_avg, exp_avg_sq
	AdamGStep, AdamDStep int
	DReinits             int
}

// State copies the trainer's state out.
func (t *Trainer) State() State {
	return State{
		G: t.g.tensors(), D: t.d.tensors(),
		AdamG:     [2]map[string][]float32{t.g.named(t.optG.m), t.g.named(t.optG.v)},
		AdamD:     [2]map[string][]float32{t.d.named(t.optD.m), t.d.named(t.optD.v)},
		AdamGStep: t.optG.step, AdamDStep: t.optD.step, DReinits: t.dReinits,
	}
}

// Restore overwrites the trainer's state with s, which must be complete.
func (t *Trainer) Restore(s State) error {
	if err := t.g.load(s.G, false); err != nil {
		return err
	}
	if err := t.d.load(s.D, false); err != nil {
		return err
	}
	for i, a := range [2]*adam{t.optG, t.optD} {
		n, moments := t.g, s.AdamG
		if i == 1 {
			n, moments = t.d, s.AdamD
		}
		m, err := n.flat(moments[0])
		if err != nil {
			return fmt.Errorf("Adam state: %w", err)
		}
		v, err := n.flat(moments[1])
		if err != nil {
			return fmt.Errorf("Adam state: %w", err)
		}
		a.m, a.v = m, v
	}
	t.optG.step, t.optD.step, t.dReinits = s.AdamGStep, s.AdamDStep, s.DReinits
	return nil
}

// Generator copies G's tensors out by official name: what a weights file holds.
func (t *Trainer) Generator() map[string][]float32 { return t.g.tensors() }

// LoadGenerator overwrites G's tensors (a model kept from an earlier epoch).
func (t *Trainer) LoadGenerator(tensors map[string][]float32) error {
	return t.g.load(tensors, false)
}

// Forward runs G without gradients on n images x and returns z, x̂ and ẑ (views of
// the trainer's buffers, valid until its next call). train selects batch norm's mode:
// false (running statistics) is how an exported model scores; true, with the running
// statistics updated, is the official test pass of the paper protocol.
func (t *Trainer) Forward(x []float32, n int, train bool) (z, xhat, zhat []float32) {
	z = t.g.forward(0, &t.e1, x, n, train, train)
	xhat = t.g.forward(1, &t.dec, z, n, train, train)
	zhat = t.g.forward(2, &t.e2, xhat, n, train, train)
	return z, xhat, zhat
}
