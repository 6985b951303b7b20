package torchengine

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sugarme/gotch"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/learn"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

// TestStepMatchesPyTorch holds one training step to PyTorch's (the fixture and the
// script that made it are in testdata/): from the same weights and the same batch,
// the five losses agree, and so do every parameter and running statistic of G and D
// after both Adam updates. A wrong loss weight, a gradient of the wrong sign, a
// running statistic updated once too often, or Adam's bias correction would each
// show: Adam's first step moves every parameter by about ±lr (2e-4), far beyond the
// tolerance.
func TestStepMatchesPyTorch(t *testing.T) {
	f, err := safetensors.ReadFile(filepath.Join("..", "..", "..", "model", "learn", "testdata", "step_fixture.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg model.Config // the script writes the same JSON names
	var want learn.Losses
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(f.Metadata["losses"]), &want); err != nil {
		t.Fatal(err)
	}
	byPrefix := func(prefix string) map[string][]float32 {
		out := map[string][]float32{}
		for _, tt := range f.Tensors {
			if name, ok := strings.CutPrefix(tt.Name, prefix); ok {
				out[name] = tt.Data
			}
		}
		return out
	}
	var x []float32
	for _, tt := range f.Tensors {
		if tt.Name == "x" {
			x = tt.Data
		}
	}
	n := len(x) / cfg.InputLen()
	gBefore, dBefore := byPrefix("g."), byPrefix("d.")
	gAfter, dAfter := byPrefix("g_after."), byPrefix("d_after.")

	onWorker(t, func() error {
		tr, err := trainerFrom(cfg, gBefore, dBefore)
		if err != nil {
			return err
		}
		got, err := tr.step(x, n)
		if err != nil {
			return err
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"adv", got.Adv, want.Adv}, {"con", got.Con, want.Con}, {"enc", got.Enc, want.Enc}, {"g", got.G, want.G}, {"d", got.D, want.D}} {
			rel := math.Abs(c.got-c.want) / math.Abs(c.want)
			t.Logf("loss %-3s gotch %.7g, PyTorch %.7g (relative difference %.2g)", c.name, c.got, c.want, rel)
			if rel > 1e-4 {
				t.Errorf("loss %s: gotch %g, PyTorch %g", c.name, c.got, c.want)
			}
		}
		gNow, err := tr.g.snapshot()
		if err != nil {
			return err
		}
		dNow, err := tr.d.snapshot()
		if err != nil {
			return err
		}
		compareAfterStep(t, "G", gNow, gAfter, gBefore)
		compareAfterStep(t, "D", dNow, dAfter, dBefore)
		return nil
	})
}

// stepTolerance bounds |gotch − PyTorch| of a value after one step: a tenth of what
// Adam's first step moves a parameter (lr = 2e-4).
const stepTolerance = 2e-5

func compareAfterStep(t *testing.T, net string, got, want, before map[string][]float32) {
	t.Helper()
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("%s: %d tensors after the step, the fixture has %d", net, len(got), len(want))
	}
	worst, worstName, moved := 0.0, "", 0.0
	for name, w := range want {
		g, ok := got[name]
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: tensor %q missing or of another size", net, name)
		}
		for i := range w {
			if d := math.Abs(float64(g[i]) - float64(w[i])); d > worst {
				worst, worstName = d, name
			}
			moved = math.Max(moved, math.Abs(float64(w[i])-float64(before[name][i])))
		}
	}
	t.Logf("%s after one step: max |ours − reference| %.3g (at %s); the step moved values by up to %.3g", net, worst, worstName, moved)
	if worst > stepTolerance {
		t.Errorf("%s: %s differs from the reference by %.3g after one step (tolerance %g)", net, worstName, worst, stepTolerance)
	}
	if moved < 10*stepTolerance {
		t.Errorf("%s: the step moved nothing by more than %.3g: the comparison says nothing", net, moved)
	}
}

// trainerFrom builds a gotch trainer on the CPU from given tensors of G and D, with
// the default hyperparameters and fresh Adam states. It must run on a torch worker.
func trainerFrom(cfg model.Config, g, d map[string][]float32) (*trainer, error) {
	opts := train.DefaultOptions()
	opts.Config = cfg
	tr := &trainer{opts: opts, cfg: cfg, device: gotch.CPU}
	var err error
	if tr.g, err = newGenerator(cfg, gotch.CPU, g); err != nil {
		return nil, err
	}
	if tr.d, err = newDiscriminator(cfg, gotch.CPU, d); err != nil {
		return nil, err
	}
	if tr.optG, err = newAdam(tr.g.trainable(), opts.LR, opts.Beta1, opts.Beta2); err != nil {
		return nil, err
	}
	if tr.optD, err = newAdam(tr.d.trainable(), opts.LR, opts.Beta1, opts.Beta2); err != nil {
		return nil, err
	}
	return tr, nil
}

// TestPureGoStepMatchesGotch holds the pure-Go trainer (model/learn, which trains in
// the browser) to this one, step by step: the same initial weights from the same
// seed, the same batches, three steps of a configuration with colour, an extra layer
// and a wider latent than the PyTorch fixture's. After each step the losses agree
// and so do every parameter and running statistic of G and D.
func TestPureGoStepMatchesGotch(t *testing.T) {
	cfg := model.Config{ImageSize: 32, Channels: 3, Latent: 20, Width: 8, ExtraLayers: 1}
	const seed, n, steps = 5, 8, 3
	g0, d0 := learn.InitialWeights(cfg, seed)
	pure, err := learn.NewTrainer(cfg, learn.DefaultHyper(), seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	onWorker(t, func() error {
		tr, err := trainerFrom(cfg, g0, d0)
		if err != nil {
			return err
		}
		gPrev, dPrev := g0, d0
		for step := 1; step <= steps; step++ {
			x := make([]float32, n*cfg.InputLen())
			for i := range x {
				x[i] = 2*rng.Float32() - 1
			}
			want, err := tr.step(x, n)
			if err != nil {
				return err
			}
			got, err := pure.Step(x, n)
			if err != nil {
				return err
			}
			t.Logf("step %d:", step)
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"adv", got.Adv, want.Adv}, {"con", got.Con, want.Con}, {"enc", got.Enc, want.Enc}, {"g", got.G, want.G}, {"d", got.D, want.D}} {
				rel := math.Abs(c.got-c.want) / math.Abs(c.want)
				t.Logf("loss %-3s pure Go %.7g, gotch %.7g (relative difference %.2g)", c.name, c.got, c.want, rel)
				if !(rel <= 1e-4) {
					t.Errorf("step %d, loss %s: pure Go %g, gotch %g", step, c.name, c.got, c.want)
				}
			}
			gNow, err := tr.g.snapshot()
			if err != nil {
				return err
			}
			dNow, err := tr.d.snapshot()
			if err != nil {
				return err
			}
			st := pure.State()
			compareAfterStep(t, fmt.Sprintf("step %d, G", step), st.G, gNow, gPrev)
			compareAfterStep(t, fmt.Sprintf("step %d, D", step), st.D, dNow, dPrev)
			gPrev, dPrev = gNow, dNow
		}
		return nil
	})
}
