package model

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestAnomalyScoreByHand(t *testing.T) {
	z := []float32{1, 2, 3, 4}
	zhat := []float32{1, 0, 4, 1}
	// differences 0, 2, −1, 3: squares 0+4+1+9 = 14, mean 3.5; L1 0+2+1+3 = 6.
	if got := AnomalyScore(z, zhat, ScoreMSE); got != 3.5 {
		t.Errorf("mse = %g, want 3.5", got)
	}
	if got := AnomalyScore(z, zhat, ScoreL1); got != 6 {
		t.Errorf("l1 = %g, want 6", got)
	}
	for _, kind := range []ScoreKind{ScoreMSE, ScoreL1} {
		var sum float64
		for _, c := range Contributions(nil, z, zhat, kind) {
			sum += float64(c)
		}
		if want := AnomalyScore(z, zhat, kind); math.Abs(sum-want) > 1e-6 {
			t.Errorf("%s: contributions sum to %g, score is %g", kind, sum, want)
		}
	}
}

func TestCalibration(t *testing.T) {
	scores := []float64{0.3, 0.1, 0.5, 0.2, 0.4} // sorted 0.1 … 0.5
	c, err := CalibrateFromNormals(scores, ScoreMSE, 0.75)
	if err != nil {
		t.Fatal(err)
	}
	if c.Min != 0.1 || c.Max != 0.5 || math.Abs(c.Threshold-0.4) > 1e-12 || c.Samples != 5 {
		t.Errorf("got %+v, want min 0.1 max 0.5 threshold 0.4 (0.75 quantile) samples 5", c)
	}
	if got := c.Normalize(0.3); math.Abs(got-0.5) > 1e-12 {
		t.Errorf("Normalize(0.3) = %g, want 0.5", got)
	}
	if c.Normalize(-1) != 0 || c.Normalize(7) != 1 {
		t.Error("Normalize does not clamp to [0, 1]")
	}
	if !c.Anomalous(0.4) || c.Anomalous(0.39) {
		t.Error("verdict is not raw >= threshold")
	}
	if _, err := CalibrateFromNormals([]float64{1}, ScoreMSE, 0.9); err == nil {
		t.Error("one score accepted")
	}
	if _, err := CalibrateFromNormals(scores, ScoreMSE, 1); err == nil {
		t.Error("quantile 1 accepted")
	}
	if _, err := CalibrateFromNormals([]float64{1, math.NaN()}, ScoreMSE, 0.5); err == nil {
		t.Error("NaN score accepted")
	}
	flat, err := CalibrateFromNormals([]float64{2, 2, 2}, ScoreL1, 0.5)
	if err != nil || !(flat.Max > flat.Min) {
		t.Errorf("equal scores: %+v, %v", flat, err)
	}
}

func TestDetectorScoresOneImageAsInBatch(t *testing.T) {
	f := testWeightsFile(t)
	d, err := NewDetector(f)
	if err != nil {
		t.Fatal(err)
	}
	x := randomImages(f.Config, 3, 1)
	batch, err := d.Score(nil, x, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ones, err := d.Score(nil, x[i*f.Config.InputLen():], 1)
		if err != nil {
			t.Fatal(err)
		}
		one := ones[0]
		if math.Abs(one.Raw-batch[i].Raw) > 1e-6 || one.Anomalous != batch[i].Anomalous {
			t.Errorf("image %d: alone %+v, in batch %+v", i, one, batch[i])
		}
		if one.Score < 0 || one.Score > 1 {
			t.Errorf("score %g outside [0, 1]", one.Score)
		}
	}
}

// The terms a teaching view shows add up to the score exactly: summed in index order
// (then divided by nz for MSE) they give AnomalyScore bit for bit, on random codes
// where a different order would show in the last bits.
func TestTermsSumToScore(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, nz := range []int{1, 7, 100, 513} {
		z, zhat := make([]float32, nz), make([]float32, nz)
		for i := range z {
			z[i], zhat[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		for _, kind := range []ScoreKind{ScoreMSE, ScoreL1} {
			var sum float64
			for _, v := range Terms(nil, z, zhat, kind) {
				sum += v
			}
			if kind == ScoreMSE {
				sum /= float64(nz)
			}
			if want := AnomalyScore(z, zhat, kind); sum != want {
				t.Errorf("nz %d %s: terms give %v, AnomalyScore %v", nz, kind, sum, want)
			}
		}
	}
}

func TestUncalibrated(t *testing.T) {
	c := Uncalibrated(ScoreMSE)
	if err := c.Validate(); err != nil {
		t.Fatalf("Uncalibrated does not validate: %v", err)
	}
	if c.Calibrated() || c.Anomalous(1e9) || c.Normalize(5) != 0 {
		t.Errorf("uncalibrated %+v gives a verdict or a scale", c)
	}
	forged := c
	forged.Threshold = 0.3
	if forged.Validate() == nil {
		t.Error("an uncalibrated calibration with a threshold was accepted")
	}
}

// TestOverflowIsAnErrorNotAVerdict: finite weights large enough to overflow give a
// non-finite score, which must fail the image rather than read "normal" (a NaN is
// below every threshold).
func TestOverflowIsAnErrorNotAVerdict(t *testing.T) {
	f := testWeightsFile(t)
	for name, v := range f.Tensors {
		if strings.HasSuffix(name, "weight") && !strings.Contains(name, "running") {
			for i := range v {
				v[i] *= 3e37 // finite, as ReadWeights demands; the products are not
			}
		}
	}
	d, err := NewDetector(f)
	if err != nil {
		t.Fatal(err)
	}
	x := randomImages(f.Config, 2, 1)
	res, err := d.Score(nil, x, 2)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "image 1 of 2") {
		t.Fatalf("results %+v, error %v: want ErrNonFinite naming the image", res, err)
	}
	if _, err := d.Result([]float32{float32(math.Inf(1))}, []float32{0}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("an infinite latent gave %v", err)
	}
	if r, err := d.Result([]float32{1, 2}, []float32{1, 2}); err != nil || r.Raw != 0 {
		t.Errorf("equal codes: %+v, %v", r, err)
	}
}
