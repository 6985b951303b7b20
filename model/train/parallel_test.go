package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/learn"
)

// Two shards that see the same images compute the same gradients and statistics, so
// their average is exactly what one trainer computes on those images alone: the
// plumbing (cutting, averaging, applying, re-initialising) loses or adds nothing.
func TestParallelStepEqualsSingleOnRepeatedBatch(t *testing.T) {
	o := DefaultOptions()
	o.Config = model.Config{ImageSize: 16, Channels: 1, Latent: 8, Width: 8}
	follower, err := learn.NewTrainer(o.Config, o.Hyper(), o.Seed)
	if err != nil {
		t.Fatal(err)
	}
	par, err := NewParallelEngine(o, []Shard{LocalShard{follower}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	single, err := learn.NewTrainer(o.Config, o.Hyper(), o.Seed)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	l := o.Config.InputLen()
	for step := range 3 {
		a := make([]float32, 4*l)
		for i := range a {
			a[i] = 2*r.Float32() - 1
		}
		got, err := par.Step(slices.Concat(a, a), 8)
		if err != nil {
			t.Fatal(err)
		}
		want, err := single.Step(a, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("step %d: losses %+v, one trainer %+v", step, got, want)
		}
	}
	sp, _ := par.State()
	ss, sf := single.State(), follower.State()
	for name, v := range ss.G {
		if !slices.Equal(sp.G[name], v) || !slices.Equal(sf.G[name], v) {
			t.Fatalf("G's %s differs between the parallel engine, its follower and one trainer", name)
		}
	}
	for name, v := range ss.D {
		if !slices.Equal(sp.D[name], v) || !slices.Equal(sf.D[name], v) {
			t.Fatalf("D's %s differs between the parallel engine, its follower and one trainer", name)
		}
	}
}

// Data parallelism over two workers, batch norm statistics per shard of 32, trains
// models as good as one trainer with batches of 64: the short MNIST run both ways.
func TestParallelTrainsAsWell(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twice for about 40 seconds")
	}
	RegisterEngine("go-2-workers", func(o Options) (Engine, error) {
		f, err := learn.NewTrainer(o.Config, o.Hyper(), o.Seed)
		if err != nil {
			return nil, err
		}
		return NewParallelEngine(o, []Shard{LocalShard{f}}, "the pure-Go engine on 2 workers")
	}, describeCPU)
	single, _ := shortMNISTRun(t, EngineGo)
	o := shortMNIST()
	o.Engine = "go-2-workers"
	par, err := Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("class 2, width 16, 3 epochs: test AUC one trainer %.4f, two workers %.4f", single.Test.AUC, par.Test.AUC)
	if d := math.Abs(par.Test.AUC - single.Test.AUC); d > 0.03 {
		t.Errorf("two workers: test AUC %.4f, one trainer %.4f: more than 0.03 apart", par.Test.AUC, single.Test.AUC)
	}
}
