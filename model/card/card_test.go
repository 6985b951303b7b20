package card

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
)

// A card written by the trainer before the PCA existed (testdata: a real one, its ROC
// and history cut short) loads, says it has no map, and writes back the same JSON
// (nothing lost, nothing added).
func TestOldCardRoundTrip(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "v1-before-pca.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(old)
	if err != nil {
		t.Fatal(err)
	}
	if c.HasPCA() || !c.HasTest() || c.ScoreScale != ScaleRaw || c.Config.Latent != 100 {
		t.Errorf("HasPCA %v, HasTest %v, scale %q, latent %d", c.HasPCA(), c.HasTest(), c.ScoreScale, c.Config.Latent)
	}
	again, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(old, &a)
	json.Unmarshal(again, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the card changed in a round trip:\n%s", again)
	}
}

func TestPCARoundTrip(t *testing.T) {
	c := &Card{Format: Format, FormatVersion: FormatVersion, Config: configLatent(3), PCA: &PCA{
		Source:     "test",
		Mean:       []float64{1, 0, 0},
		Components: [2][]float64{{1, 0, 0}, {0, 0.6, 0.8}},
		Variance:   [2]float64{2, 1}, TotalVariance: 3.5,
		Points: []PCAPoint{{X: 1, Y: 2}, {X: -1, Y: 0.5, Anomalous: true}},
	}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasPCA() || !reflect.DeepEqual(got.PCA, c.PCA) {
		t.Fatalf("PCA after a round trip: %+v", got.PCA)
	}
	// (2, 1, 1) − mean = (1, 1, 1): x = 1, y = 0.6 + 0.8.
	if x, y := got.PCA.Project([]float32{2, 1, 1}); x != 1 || math.Abs(y-1.4) > 1e-12 {
		t.Errorf("Project = (%g, %g), want (1, 1.4)", x, y)
	}
	// A basis that does not fit the latent is dropped with an error, the rest kept.
	c.Config = configLatent(4)
	b, _ = json.Marshal(c)
	got, err = Parse(b)
	if err == nil || got == nil || got.PCA != nil || got.Format != Format {
		t.Errorf("mismatched PCA: card %+v, error %v", got, err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{`{`, `{"format": "other"}`, `{"format": "ganomaly-go/model-card", "format_version": 2}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%s) accepted", in)
		}
	}
	// The placeholder card of a fresh checkout has other fields; it loads, without
	// test figures.
	c, err := Parse([]byte(`{"placeholder": true, "title": "t", "summary": "s", "architecture": "x"}`))
	if err != nil || !c.Placeholder || c.HasTest() || c.HasPCA() {
		t.Errorf("placeholder card: %+v, %v", c, err)
	}
}

// Rates from counts, by hand: normal scores 0.1, 0.3, 0.3, 0.9 and anomalous 0.5, 0.7,
// 0.9, 1.5 over [0, 1] in 4 bins (edges 0, 0.25, 0.5, 0.75, 1), 1.5 above the range.
func TestRatesAt(t *testing.T) {
	h := Histograms{
		Normal:    metrics.NewHistogram([]float64{0.1, 0.3, 0.3, 0.9}, 0, 1, 4),
		Anomalous: metrics.NewHistogram([]float64{0.5, 0.7, 0.9, 1.5}, 0, 1, 4),
	}
	for k, want := range [][2]float64{{1, 1}, {1, 0.75}, {1, 0.25}, {0.5, 0.25}, {0.25, 0}} {
		tpr, fpr := h.RatesAt(k)
		if tpr != want[0] || fpr != want[1] {
			t.Errorf("RatesAt(%d) = TPR %g FPR %g, want %g %g", k, tpr, fpr, want[0], want[1])
		}
	}
	if e := h.Edge(2); e != 0.5 {
		t.Errorf("Edge(2) = %g", e)
	}
	for s, want := range map[float64]int{-1: 0, 0.1: 0, 0.2: 1, 0.74: 3, 2: 4} {
		if k := h.NearestEdge(s); k != want {
			t.Errorf("NearestEdge(%g) = %d, want %d", s, k, want)
		}
	}
}

func configLatent(nz int) model.Config { return model.Config{Latent: nz} }
