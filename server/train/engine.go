package train

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model/learn"
	"github.com/ganomaly-go/ganomaly-go/server/torch"
)

// Engines for Options.Engine: what steps the networks. Both take the same step from
// the same initial weights (learn.InitialWeights) and agree to about 1e-7 per step
// (TestPureGoStepMatchesGotch), share the checkpoint format, and so can resume each
// other's runs.
const (
	// EngineTorch is libtorch through gotch, on the CPU or a CUDA device.
	EngineTorch = "libtorch"
	// EngineGo is the pure-Go trainer of package model/learn, the one that trains in
	// the browser: CPU only, on every core (GOMAXPROCS).
	EngineGo = "go"
)

// engine is what a run trains with. The runner owns the protocol (epochs, batches,
// selection, calibration, checkpoints, events); an engine owns G, D and Adam.
type engine interface {
	// describe names the engine and its device for people ("libtorch on cpu").
	describe() string
	step(x []float32, n int) (Losses, error)
	// forward runs G without gradients on n images: eval-mode batch norm, or with
	// train the official test pass (batch statistics, running statistics updated).
	// The slices are the caller's.
	forward(x []float32, n int, train bool) (z, xhat, zhat []float32, err error)
	state() (learn.State, error)
	restore(learn.State) error
	generator() (map[string][]float32, error)
	loadGenerator(map[string][]float32) error
}

// newEngine builds the engine o names, initialised from o.Seed; libtorch runs on w.
func newEngine(o Options, w *torch.Worker) (engine, error) {
	switch o.Engine {
	case EngineGo:
		t, err := learn.NewTrainer(o.Config, o.hyper(), o.Seed)
		if err != nil {
			return nil, err
		}
		return goEngine{t}, nil
	case EngineTorch, "":
		e := &torchEngine{w: w}
		err := w.Do(func() error {
			device, err := torch.SelectDevice(o.Device)
			if err != nil {
				return err
			}
			e.t, err = newTrainer(o, device)
			return err
		})
		return e, err
	}
	return nil, fmt.Errorf("engine %q: use %q or %q", o.Engine, EngineTorch, EngineGo)
}

func (o Options) hyper() learn.Hyper {
	return learn.Hyper{LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, WAdv: o.WAdv, WCon: o.WCon, WEnc: o.WEnc}
}

// validateEngine checks o.Engine against o.Device.
func validateEngine(engine, device string) error {
	switch engine {
	case EngineTorch, "":
		return nil
	case EngineGo:
		if d := strings.ToLower(strings.TrimSpace(device)); d != "auto" && d != "cpu" {
			return fmt.Errorf("device %q: the %q engine runs on the CPU only: use --device cpu or auto, or the %q engine", device, EngineGo, EngineTorch)
		}
		return nil
	}
	return fmt.Errorf("engine %q: use %q (libtorch, CPU or CUDA) or %q (pure Go, CPU)", engine, EngineTorch, EngineGo)
}

// goEngine is the pure-Go trainer.
type goEngine struct{ t *learn.Trainer }

func (e goEngine) describe() string {
	return fmt.Sprintf("the pure-Go engine on %d CPU threads", runtime.GOMAXPROCS(0))
}

func (e goEngine) step(x []float32, n int) (Losses, error) { return e.t.Step(x, n) }

func (e goEngine) forward(x []float32, n int, train bool) (z, xhat, zhat []float32, err error) {
	z, xhat, zhat = e.t.Forward(x, n, train)
	return z, xhat, zhat, nil // views, valid until the next call: the runner copies what it keeps
}

func (e goEngine) state() (learn.State, error)                { return e.t.State(), nil }
func (e goEngine) restore(s learn.State) error                { return e.t.Restore(s) }
func (e goEngine) generator() (map[string][]float32, error)   { return e.t.Generator(), nil }
func (e goEngine) loadGenerator(g map[string][]float32) error { return e.t.LoadGenerator(g) }

// torchEngine is the gotch trainer on its worker's thread.
type torchEngine struct {
	w *torch.Worker
	t *trainer
}

func (e *torchEngine) describe() string { return "libtorch on " + deviceName(e.t.device) }

func (e *torchEngine) step(x []float32, n int) (l Losses, err error) {
	err = e.w.Do(func() error {
		var err error
		l, err = e.t.step(x, n)
		return err
	})
	return l, err
}

func (e *torchEngine) forward(x []float32, n int, train bool) (z, xhat, zhat []float32, err error) {
	err = e.w.Do(func() error {
		var err error
		z, xhat, zhat, err = e.t.forward(x, n, train)
		return err
	})
	return z, xhat, zhat, err
}

func (e *torchEngine) state() (s learn.State, err error) {
	err = e.w.Do(func() error {
		var err error
		s, err = e.t.state()
		return err
	})
	return s, err
}

func (e *torchEngine) restore(s learn.State) error {
	return e.w.Do(func() error { return e.t.restore(s) })
}

func (e *torchEngine) generator() (g map[string][]float32, err error) {
	err = e.w.Do(func() error {
		var err error
		g, err = e.t.g.snapshot()
		return err
	})
	return g, err
}

func (e *torchEngine) loadGenerator(g map[string][]float32) error {
	return e.w.Do(func() error { return e.t.g.load(g) })
}
