package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ScoreKind names how the latent distance between z and ẑ becomes a score.
type ScoreKind string

const (
	// ScoreMSE is the official code's score: the mean over the nz latent values of
	// (z_i − ẑ_i)².
	ScoreMSE ScoreKind = "mse"
	// ScoreL1 is the score as the paper writes it: the L1 norm Σ|z_i − ẑ_i|.
	ScoreL1 ScoreKind = "l1"
)

// Validate reports whether k is a known score.
func (k ScoreKind) Validate() error {
	if k != ScoreMSE && k != ScoreL1 {
		return fmt.Errorf("unknown score %q: use %q (official, mean squared) or %q (paper, L1 norm)", string(k), ScoreMSE, ScoreL1)
	}
	return nil
}

// Contributions writes each latent dimension's share of the score into dst and returns
// it: (z_i − ẑ_i)²/nz for ScoreMSE, |z_i − ẑ_i| for ScoreL1, so that the shares sum to
// [AnomalyScore]. dst is allocated when it is too short.
func Contributions(dst, z, zhat []float32, kind ScoreKind) []float32 {
	if len(z) != len(zhat) {
		panic("model: z and ẑ differ in length")
	}
	if cap(dst) < len(z) {
		dst = make([]float32, len(z))
	}
	dst = dst[:len(z)]
	inv := 1 / float32(len(z))
	for i := range z {
		d := z[i] - zhat[i]
		if kind == ScoreL1 {
			dst[i] = float32(math.Abs(float64(d)))
		} else {
			dst[i] = d * d * inv
		}
	}
	return dst
}

// Terms writes each latent dimension's term of the score into dst, in float64 as
// [AnomalyScore] computes it: (z_i − ẑ_i)² for ScoreMSE, |z_i − ẑ_i| for ScoreL1.
// AnomalyScore is their sum in index order, divided by nz for ScoreMSE, bit for bit, so
// that a teaching view can show the terms, their sum and the division and land exactly
// on the score it shows elsewhere. dst is allocated when it is too short.
func Terms(dst []float64, z, zhat []float32, kind ScoreKind) []float64 {
	if len(z) != len(zhat) {
		panic("model: z and ẑ differ in length")
	}
	if cap(dst) < len(z) {
		dst = make([]float64, len(z))
	}
	dst = dst[:len(z)]
	for i := range z {
		d := float64(z[i]) - float64(zhat[i])
		if kind == ScoreL1 {
			dst[i] = math.Abs(d)
		} else {
			dst[i] = d * d
		}
	}
	return dst
}

// AnomalyScore is the raw score A(x) of one image from its latent vectors z = G_E(x)
// and ẑ = E(G(x)). It accumulates in float64 so that the order of the sum does not show.
func AnomalyScore(z, zhat []float32, kind ScoreKind) float64 {
	if len(z) != len(zhat) {
		panic("model: z and ẑ differ in length")
	}
	var sum float64
	for i := range z {
		d := float64(z[i]) - float64(zhat[i])
		if kind == ScoreL1 {
			sum += math.Abs(d)
		} else {
			sum += d * d
		}
	}
	if kind == ScoreL1 {
		return sum
	}
	return sum / float64(len(z))
}

// Calibration turns a raw score into a score in [0, 1] and a verdict for one image on
// its own, with statistics fixed when the model was trained (on a validation split of
// normal images in the honest protocol) instead of min–max over a test set, which the
// official code does and which leaves a single new image without a score.
type Calibration struct {
	Score ScoreKind `json:"score"`
	// Min and Max are the raw scores mapped to 0 and 1.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// Threshold is the raw score at and above which an image is called anomalous.
	Threshold float64 `json:"threshold"`
	// Method says how Min, Max and Threshold were chosen, for the model card.
	Method string `json:"method"`
	// Samples is the number of images the statistics came from.
	Samples int `json:"samples"`
}

// ErrCalibration is wrapped by every validation error of a Calibration.
var ErrCalibration = errors.New("invalid calibration")

// MethodUncalibrated is the Method of a model that has no calibration, such as an
// official checkpoint imported without normal images to calibrate it on. Such a model
// gives raw scores only: no [0, 1] score and no verdict, rather than invented ones.
const MethodUncalibrated = "uncalibrated"

// Uncalibrated is the calibration of a model that has none; kind is the raw score it
// reports.
func Uncalibrated(kind ScoreKind) Calibration {
	return Calibration{Score: kind, Method: MethodUncalibrated}
}

// Calibrated reports whether c has a scale and a threshold. When it is false,
// Normalize and NormalizedThreshold return 0 and Anomalous false: every surface must
// check it and show the raw score with a note that the model has no threshold.
func (c Calibration) Calibrated() bool { return c.Method != MethodUncalibrated }

// Validate checks that c can score: finite numbers, Max > Min; or that it is exactly
// [Uncalibrated].
func (c Calibration) Validate() error {
	if err := c.Score.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrCalibration, err)
	}
	if !c.Calibrated() {
		if c != Uncalibrated(c.Score) {
			return fmt.Errorf("%w: method %q has no min, max, threshold or samples, got %g, %g, %g, %d", ErrCalibration, MethodUncalibrated, c.Min, c.Max, c.Threshold, c.Samples)
		}
		return nil
	}
	for _, v := range []float64{c.Min, c.Max, c.Threshold} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: min %g, max %g, threshold %g must all be finite", ErrCalibration, c.Min, c.Max, c.Threshold)
		}
	}
	if !(c.Max > c.Min) {
		return fmt.Errorf("%w: max %g must be greater than min %g", ErrCalibration, c.Max, c.Min)
	}
	if c.Samples < 0 {
		return fmt.Errorf("%w: samples %d is negative", ErrCalibration, c.Samples)
	}
	return nil
}

// Normalize maps a raw score to [0, 1] linearly between Min and Max, clamping outside.
// It is 0 for an uncalibrated model.
func (c Calibration) Normalize(raw float64) float64 {
	if !c.Calibrated() {
		return 0
	}
	v := (raw - c.Min) / (c.Max - c.Min)
	return math.Min(1, math.Max(0, v))
}

// NormalizedThreshold is the threshold on the [0, 1] scale of [Calibration.Normalize].
func (c Calibration) NormalizedThreshold() float64 { return c.Normalize(c.Threshold) }

// Anomalous is the verdict for a raw score; always false for an uncalibrated model,
// which has no threshold (check [Calibration.Calibrated] before showing a verdict).
func (c Calibration) Anomalous(raw float64) bool { return c.Calibrated() && raw >= c.Threshold }

// CalibrateFromNormals derives a calibration from raw scores of normal images that the
// model was not trained on: Min and Max are their extremes and Threshold their
// quantile q (0.95 flags about 5 % of normals), interpolated linearly.
func CalibrateFromNormals(scores []float64, kind ScoreKind, q float64) (Calibration, error) {
	if len(scores) < 2 {
		return Calibration{}, fmt.Errorf("%w: need at least 2 scores, have %d", ErrCalibration, len(scores))
	}
	if !(q > 0 && q < 1) {
		return Calibration{}, fmt.Errorf("%w: quantile %g must be in (0, 1)", ErrCalibration, q)
	}
	sorted := append([]float64(nil), scores...)
	slices.Sort(sorted)
	c := Calibration{
		Score:     kind,
		Min:       sorted[0],
		Max:       sorted[len(sorted)-1],
		Threshold: Quantile(sorted, q),
		Method:    fmt.Sprintf("normal images held out from training: min, max, %g quantile as threshold", q),
		Samples:   len(scores),
	}
	if c.Max == c.Min { // all equal: widen so that Normalize stays defined
		c.Max = c.Min + math.Max(1e-12, math.Abs(c.Min)*1e-6)
	}
	return c, c.Validate()
}

// Quantile returns the q-quantile of sorted values with linear interpolation (numpy's
// default). sorted must be ascending and non-empty.
func Quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(i)
	return sorted[i] + frac*(sorted[i+1]-sorted[i])
}
