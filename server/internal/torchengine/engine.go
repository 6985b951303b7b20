package torchengine

import (
	"sync"

	"github.com/ganomaly-go/ganomaly-go/model/learn"
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/server/internal/torch"
)

func init() {
	train.RegisterEngine(train.EngineTorch, newEngine, func(device string) (string, bool) {
		return torch.DescribeDevice(device), torch.TrainsOnCPU(device)
	})
}

// worker is the process's one libtorch thread (see package server/internal/torch): every run
// and test of this package hands its torch work to it.
var worker = sync.OnceValue(torch.NewWorker)

// newEngine builds the libtorch engine for a run on the process's worker.
func newEngine(o train.Options) (train.Engine, error) {
	e := &torchEngine{w: worker()}
	err := e.w.Do(func() error {
		device, err := torch.SelectDevice(o.Device)
		if err != nil {
			return err
		}
		e.t, err = newTrainer(o, device)
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// torchEngine is the gotch trainer on its worker's thread.
type torchEngine struct {
	w *torch.Worker
	t *trainer
}

func (e *torchEngine) Describe() string { return "libtorch on " + deviceName(e.t.device) }

func (e *torchEngine) Step(x []float32, n int) (l learn.Losses, err error) {
	err = e.w.Do(func() error {
		var err error
		l, err = e.t.step(x, n)
		return err
	})
	return l, err
}

func (e *torchEngine) Forward(x []float32, n int, train bool) (z, xhat, zhat []float32, err error) {
	err = e.w.Do(func() error {
		var err error
		z, xhat, zhat, err = e.t.forward(x, n, train)
		return err
	})
	return z, xhat, zhat, err
}

func (e *torchEngine) State() (s learn.State, err error) {
	err = e.w.Do(func() error {
		var err error
		s, err = e.t.state()
		return err
	})
	return s, err
}

func (e *torchEngine) Restore(s learn.State) error {
	return e.w.Do(func() error { return e.t.restore(s) })
}

func (e *torchEngine) Generator() (g map[string][]float32, err error) {
	err = e.w.Do(func() error {
		var err error
		g, err = e.t.g.snapshot()
		return err
	})
	return g, err
}

func (e *torchEngine) LoadGenerator(g map[string][]float32) error {
	return e.w.Do(func() error { return e.t.g.load(g) })
}

// Close frees the run's tensors in libtorch (see trainer.close). The engine must not
// be used afterwards.
func (e *torchEngine) Close() error {
	return e.w.Do(func() error {
		e.t.close()
		return nil
	})
}
