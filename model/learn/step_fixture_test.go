package learn

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// stepFixture is one training step made by PyTorch 1.13 (testdata/make_step_fixture.py):
// the weights and buffers of G and D before and after, the batch, and the losses.
type stepFixture struct {
	cfg                              model.Config
	x                                []float32
	n                                int
	losses                           Losses
	gBefore, dBefore, gAfter, dAfter map[string][]float32
}

func readStepFixture(t *testing.T) stepFixture {
	t.Helper()
	f, err := safetensors.ReadFile(filepath.Join("testdata", "step_fixture.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var s stepFixture
	if err := json.Unmarshal([]byte(f.Metadata["config"]), &s.cfg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(f.Metadata["losses"]), &s.losses); err != nil {
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
	for _, tt := range f.Tensors {
		if tt.Name == "x" {
			s.x = tt.Data
		}
	}
	s.n = len(s.x) / s.cfg.InputLen()
	s.gBefore, s.dBefore = byPrefix("g."), byPrefix("d.")
	s.gAfter, s.dAfter = byPrefix("g_after."), byPrefix("d_after.")
	return s
}

// TestStepMatchesPyTorch holds one pure-Go training step to PyTorch's: from the same
// weights and batch, the five losses agree, and so do every parameter and running
// statistic of G and D after both Adam updates. Adam's first step moves every
// parameter by about ±lr (2e-4), twenty times the tolerance, so a gradient of the
// wrong sign, a wrong loss weight, a running statistic updated once too often or
// forgotten, or a missing bias correction would each show.
func TestStepMatchesPyTorch(t *testing.T) {
	s := readStepFixture(t)
	tr, err := NewTrainerFrom(s.cfg, DefaultHyper(), 1, s.gBefore, s.dBefore)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.Step(s.x, s.n)
	if err != nil {
		t.Fatal(err)
	}
	compareLosses(t, "pure Go", got, s.losses, 1e-4)
	st := tr.State()
	compareAfterStep(t, "G", st.G, s.gAfter, s.gBefore)
	compareAfterStep(t, "D", st.D, s.dAfter, s.dBefore)
}

// compareLosses fails t unless every loss of got is within a relative tol of want's.
func compareLosses(t *testing.T, who string, got, want Losses, tol float64) {
	t.Helper()
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"adv", got.Adv, want.Adv}, {"con", got.Con, want.Con}, {"enc", got.Enc, want.Enc}, {"g", got.G, want.G}, {"d", got.D, want.D}} {
		rel := math.Abs(c.got-c.want) / math.Abs(c.want)
		t.Logf("loss %-3s %s %.7g, reference %.7g (relative difference %.2g)", c.name, who, c.got, c.want, rel)
		if !(rel <= tol) {
			t.Errorf("loss %s: %s %g, reference %g", c.name, who, c.got, c.want)
		}
	}
}

// stepTolerance bounds |ours − reference| of a value after one step: a tenth of what
// Adam's first step moves a parameter (lr = 2e-4).
const stepTolerance = 2e-5

// compareAfterStep fails t unless every tensor of got is within stepTolerance of
// want's, and the step moved some value by ten times that (else the comparison says
// nothing).
func compareAfterStep(t *testing.T, net string, got, want, before map[string][]float32) {
	t.Helper()
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("%s: %d tensors after the step, the reference has %d", net, len(got), len(want))
	}
	worst, worstName, moved := 0.0, "", 0.0
	for name, w := range want {
		g, ok := got[name]
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: tensor %q missing or of another size", net, name)
		}
		for i := range w {
			if d := math.Abs(float64(g[i]) - float64(w[i])); d > worst || math.IsNaN(d) {
				worst, worstName = d, name
			}
			moved = math.Max(moved, math.Abs(float64(w[i])-float64(before[name][i])))
		}
	}
	t.Logf("%s after one step: max |ours − reference| %.3g (at %s); the step moved values by up to %.3g", net, worst, worstName, moved)
	if !(worst <= stepTolerance) {
		t.Errorf("%s: %s differs from the reference by %.3g after one step (tolerance %g)", net, worstName, worst, stepTolerance)
	}
	if moved < 10*stepTolerance {
		t.Errorf("%s: the step moved nothing by more than %.3g: the comparison says nothing", net, moved)
	}
}
