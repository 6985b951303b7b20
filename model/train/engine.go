package train

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/ganomaly-go/ganomaly-go/model/learn"
)

// Engines for Options.Engine: what steps the networks. Every engine takes the step of
// package model/learn from the same initial weights ([learn.InitialWeights]), they
// agree to about 1e-7 per step (server/internal/torchengine's TestPureGoStepMatchesGotch), and
// they share the checkpoint format, so each resumes the others' runs.
const (
	// EngineAuto picks libtorch when the build has it, else the pure-Go engine.
	EngineAuto = ""
	// EngineTorch is libtorch through gotch, on the CPU or a CUDA device
	// (server/internal/torchengine registers it; a build without it cannot use it).
	EngineTorch = "libtorch"
	// EngineGo is the pure-Go trainer of package model/learn, the one that trains in
	// the browser: CPU only, on every core (GOMAXPROCS).
	EngineGo = "go"
)

// Engine is what a run trains with. The run owns the protocol (epochs, batches,
// selection, calibration, checkpoints, events); an engine owns G, D and their Adam
// states. Its methods are called from one goroutine at a time. An Engine that also
// implements io.Closer is closed when its run ends: the libtorch engine frees its
// tensors (weights, gradients, Adam state) there, which Go's collector would
// otherwise free only when it next runs.
type Engine interface {
	// Describe names the engine and its device for people ("libtorch on cpu").
	Describe() string
	// Step takes one training step on n images x (NCHW, in [−1, 1]).
	Step(x []float32, n int) (learn.Losses, error)
	// Forward runs G without gradients on n images: eval-mode batch norm, or with
	// train the official test pass (batch statistics, running statistics updated). The
	// slices are valid until the next call.
	Forward(x []float32, n int, train bool) (z, xhat, zhat []float32, err error)
	// State and Restore copy the whole training state out and in.
	State() (learn.State, error)
	Restore(learn.State) error
	// Generator and LoadGenerator copy G's tensors out and in, by official name.
	Generator() (map[string][]float32, error)
	LoadGenerator(map[string][]float32) error
}

// EngineFactory builds an engine for a run, initialised from o.Seed.
type EngineFactory func(o Options) (Engine, error)

// DeviceDescriber says in words what a device flag selects for an engine on this
// machine ("CPU, 2 cores", "CUDA GPU 0 of 1", or why it cannot be used), and whether
// that is the CPU, for people choosing settings.
type DeviceDescriber func(device string) (description string, cpu bool)

type engineEntry struct {
	factory  EngineFactory
	describe DeviceDescriber
}

var engines = struct {
	sync.Mutex
	m map[string]engineEntry
}{m: map[string]engineEntry{EngineGo: {newGoEngine, describeCPU}}}

// RegisterEngine makes an engine available under name (server/internal/torchengine registers
// EngineTorch when it is linked in).
func RegisterEngine(name string, f EngineFactory, d DeviceDescriber) {
	engines.Lock()
	defer engines.Unlock()
	engines.m[name] = engineEntry{f, d}
}

func describeCPU(string) (string, bool) {
	return fmt.Sprintf("CPU, %d cores", runtime.NumCPU()), true
}

// DescribeDevice says what device selects for engine on this machine (see
// [DeviceDescriber]).
func DescribeDevice(engine, device string) (description string, cpu bool) {
	name, _, err := resolveEngine(engine)
	if err != nil {
		return err.Error(), false
	}
	engines.Lock()
	d := engines.m[name].describe
	engines.Unlock()
	description, cpu = d(device)
	// Which trainer runs matters to whoever waits for it: say so.
	trainer := map[string]string{EngineGo: "pure Go", EngineTorch: "libtorch"}[name]
	if trainer == "" {
		trainer = name
	}
	return description + " · " + trainer, cpu
}

// resolveEngine returns the engine an Options.Engine value means in this build.
func resolveEngine(name string) (string, EngineFactory, error) {
	engines.Lock()
	defer engines.Unlock()
	if name == EngineAuto {
		name = EngineGo
		if _, ok := engines.m[EngineTorch]; ok {
			name = EngineTorch
		}
	}
	e, ok := engines.m[name]
	if !ok {
		if name == EngineTorch {
			return name, nil, fmt.Errorf("engine %q: this build has no libtorch; use the %q engine (pure Go, CPU), or a ganomaly built with libtorch (make build)", name, EngineGo)
		}
		return name, nil, fmt.Errorf("engine %q: use %q (libtorch, CPU or CUDA) or %q (pure Go, CPU)", name, EngineTorch, EngineGo)
	}
	return name, e.factory, nil
}

// validateEngine checks o.Engine against this build and o.Device.
func validateEngine(engine, device string) error {
	name, _, err := resolveEngine(engine)
	if err != nil {
		return err
	}
	if name == EngineGo {
		if d := strings.ToLower(strings.TrimSpace(device)); d != "auto" && d != "cpu" {
			return fmt.Errorf("device %q: the %q engine runs on the CPU only: use device cpu or auto, or the %q engine", device, EngineGo, EngineTorch)
		}
	}
	return nil
}

// Hyper returns the step's hyperparameters in o.
func (o Options) Hyper() learn.Hyper {
	return learn.Hyper{LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, WAdv: o.WAdv, WCon: o.WCon, WEnc: o.WEnc}
}

// goEngine is the pure-Go trainer.
type goEngine struct{ t *learn.Trainer }

func newGoEngine(o Options) (Engine, error) {
	t, err := learn.NewTrainer(o.Config, o.Hyper(), o.Seed)
	if err != nil {
		return nil, err
	}
	return goEngine{t}, nil
}

func (e goEngine) Describe() string {
	return fmt.Sprintf("the pure-Go engine on %d CPU threads", runtime.GOMAXPROCS(0))
}

func (e goEngine) Step(x []float32, n int) (learn.Losses, error) { return e.t.Step(x, n) }

func (e goEngine) Forward(x []float32, n int, train bool) (z, xhat, zhat []float32, err error) {
	z, xhat, zhat = e.t.Forward(x, n, train)
	return z, xhat, zhat, nil
}

func (e goEngine) State() (learn.State, error)                { return e.t.State(), nil }
func (e goEngine) Restore(s learn.State) error                { return e.t.Restore(s) }
func (e goEngine) Generator() (map[string][]float32, error)   { return e.t.Generator(), nil }
func (e goEngine) LoadGenerator(g map[string][]float32) error { return e.t.LoadGenerator(g) }
