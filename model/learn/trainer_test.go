package learn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
)

var smallConfig = model.Config{ImageSize: 16, Channels: 1, Latent: 8, Width: 8, ExtraLayers: 0}

func randomBatch(r *rand.Rand, cfg model.Config, n int) []float32 {
	x := make([]float32, n*cfg.InputLen())
	for i := range x {
		x[i] = 2*r.Float32() - 1
	}
	return x
}

// A run restored from a trainer's State continues exactly as the trainer would have:
// what the browser's and the server's checkpoints rely on.
func TestRestoreContinuesExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	batches := [][]float32{randomBatch(r, smallConfig, 4), randomBatch(r, smallConfig, 4), randomBatch(r, smallConfig, 4)}
	a, err := NewTrainer(smallConfig, DefaultHyper(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Step(batches[0], 4); err != nil {
		t.Fatal(err)
	}
	saved := a.State()
	for _, x := range batches[1:] {
		if _, err := a.Step(x, 4); err != nil {
			t.Fatal(err)
		}
	}
	b, err := NewTrainer(smallConfig, DefaultHyper(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(saved); err != nil {
		t.Fatal(err)
	}
	for _, x := range batches[1:] {
		if _, err := b.Step(x, 4); err != nil {
			t.Fatal(err)
		}
	}
	sa, sb := a.State(), b.State()
	for name, v := range sa.G {
		if !slices.Equal(v, sb.G[name]) {
			t.Fatalf("G's %s differs after resuming", name)
		}
	}
	for name, v := range sa.AdamD[1] {
		if !slices.Equal(v, sb.AdamD[1][name]) {
			t.Fatalf("D's Adam exp_avg_sq %s differs after resuming", name)
		}
	}
	if sb.AdamGStep != 3 || sb.AdamDStep != 3 {
		t.Fatalf("Adam steps %d, %d after three steps", sb.AdamGStep, sb.AdamDStep)
	}
	// A fresh trainer that skipped the restore would not agree: the check can fail.
	c, _ := NewTrainer(smallConfig, DefaultHyper(), 3)
	for _, x := range batches[1:] {
		c.Step(x, 4)
	}
	if name := "encoder1.main.initial-conv-1-8.weight"; slices.Equal(c.State().G[name], sa.G[name]) {
		t.Fatal("a trainer without the first step ends where the others do: the comparison says nothing")
	}
}

// D's re-initialisation replaces its learnt weights with the seeded DCGAN draw and
// keeps its running statistics and Adam state.
func TestApplyReinitialisesD(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	tr, err := NewTrainer(smallConfig, DefaultHyper(), 11)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Gradients(randomBatch(r, smallConfig, 4), 4); err != nil {
		t.Fatal(err)
	}
	if err := tr.Apply(true); err != nil {
		t.Fatal(err)
	}
	st := tr.State()
	fresh := ReinitD(smallConfig, 11, 0)
	for _, p := range smallConfig.Discriminator().Params() {
		if p.Buffer {
			if slices.Equal(st.D[p.Name], fresh[p.Name]) {
				t.Errorf("%s was reset: running statistics must be kept", p.Name)
			}
			continue
		}
		if !slices.Equal(st.D[p.Name], fresh[p.Name]) {
			t.Errorf("%s is not the re-initialisation's draw", p.Name)
		}
	}
	if st.DReinits != 1 || st.AdamDStep != 1 {
		t.Errorf("after one re-initialisation: %d re-initialisations, D's Adam at step %d", st.DReinits, st.AdamDStep)
	}
}

func TestBadInputIsRefused(t *testing.T) {
	h := DefaultHyper()
	h.LR = math.NaN()
	if _, err := NewTrainer(smallConfig, h, 1); err == nil || !strings.Contains(err.Error(), "learning rate") {
		t.Errorf("NaN learning rate: %v", err)
	}
	bad := smallConfig
	bad.ImageSize = 20
	if _, err := NewTrainer(bad, DefaultHyper(), 1); !errors.Is(err, model.ErrConfig) {
		t.Errorf("image size 20: %v", err)
	}
	g, d := InitialWeights(smallConfig, 1)
	delete(g, "decoder.main.final-8-1-convt.weight")
	if _, err := NewTrainerFrom(smallConfig, DefaultHyper(), 1, g, d); err == nil || !strings.Contains(err.Error(), "final-8-1-convt") {
		t.Errorf("missing tensor: %v", err)
	}
	tr, _ := NewTrainer(smallConfig, DefaultHyper(), 1)
	if _, err := tr.Step(make([]float32, 10), 1); err == nil {
		t.Error("a batch of the wrong length was taken")
	}
	x := randomBatch(rand.New(rand.NewPCG(3, 3)), smallConfig, 2)
	x[5] = float32(math.Inf(1))
	if _, err := tr.Step(x, 2); !errors.Is(err, ErrDiverged) {
		t.Errorf("an infinite pixel: %v, want ErrDiverged", err)
	}
}

// Eval-mode Forward scores as the exported model does: model.Generator on the
// trainer's G gives the same z, x̂, ẑ.
func TestForwardMatchesModelGenerator(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	tr, _ := NewTrainer(smallConfig, DefaultHyper(), 5)
	for range 3 { // move the running statistics away from 0 and 1
		if _, err := tr.Step(randomBatch(r, smallConfig, 6), 6); err != nil {
			t.Fatal(err)
		}
	}
	gen, err := model.NewGenerator(smallConfig, tr.Generator())
	if err != nil {
		t.Fatal(err)
	}
	x := randomBatch(r, smallConfig, 3)
	z, xhat, zhat := tr.Forward(x, 3, false)
	wz, wx, wzh := gen.Forward(x, 3)
	for _, c := range []struct {
		name      string
		got, want []float32
	}{{"z", z, wz}, {"x̂", xhat, wx}, {"ẑ", zhat, wzh}} {
		for i := range c.want {
			if d := math.Abs(float64(c.got[i] - c.want[i])); !(d <= 1e-4*(1+math.Abs(float64(c.want[i])))) {
				t.Fatalf("%s[%d] = %g, model.Generator %g", c.name, i, c.got[i], c.want[i])
			}
		}
	}
}
