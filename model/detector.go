package model

import (
	"errors"
	"fmt"
	"math"
)

// ErrNonFinite is wrapped by the error of an image whose anomaly score is NaN or
// infinite: the model's outputs overflowed. Such a score is an error, never a
// verdict (a NaN compares below every threshold and would read "normal").
var ErrNonFinite = errors.New("the model gives a non-finite score")

// Detector scores images on their own: a generator in inference mode plus the
// calibration and provenance stored with its weights.
type Detector struct {
	File *WeightsFile
	gen  *Generator
}

// Result is the outcome of scoring one image.
type Result struct {
	Raw       float64 // A(x), the latent distance
	Score     float64 // Raw calibrated to [0, 1]; 0 when the model is uncalibrated
	Anomalous bool    // Raw at or above the calibrated threshold
	// Calibrated is false for a model without calibration: Score and Anomalous then
	// mean nothing, and only Raw may be shown.
	Calibrated bool
}

// NewDetector builds a detector from a checked weights file.
func NewDetector(f *WeightsFile) (*Detector, error) {
	gen, err := NewGenerator(f.Config, f.Tensors)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWeights, err)
	}
	return &Detector{File: f, gen: gen}, nil
}

// LoadDetector reads a weights file held in memory and builds its detector.
func LoadDetector(data []byte) (*Detector, error) {
	f, err := ReadWeights(data)
	if err != nil {
		return nil, err
	}
	return NewDetector(f)
}

// Config is the detector's model configuration.
func (d *Detector) Config() Config { return d.File.Config }

// Generator gives access to the stages of the forward pass (for teaching views).
func (d *Detector) Generator() *Generator { return d.gen }

// Result calibrates the raw score of one image's latent pair; a non-finite score is
// an error wrapping [ErrNonFinite].
func (d *Detector) Result(z, zhat []float32) (Result, error) {
	c := d.File.Calibration
	raw := AnomalyScore(z, zhat, c.Score)
	if math.IsNaN(raw) || math.IsInf(raw, 0) {
		return Result{}, fmt.Errorf("%w (%v): its outputs overflow on this image, so it cannot judge it", ErrNonFinite, raw)
	}
	return Result{Raw: raw, Score: c.Normalize(raw), Anomalous: c.Anomalous(raw), Calibrated: c.Calibrated()}, nil
}

// Score runs n images (NCHW in [−1, 1]) and appends one Result per image to dst; an
// image with a non-finite score fails the call, naming it (see [ErrNonFinite]).
// Like Generator.Forward it is not safe for concurrent use.
func (d *Detector) Score(dst []Result, x []float32, n int) ([]Result, error) {
	z, _, zhat := d.gen.Forward(x, n)
	nz := d.File.Config.Latent
	for i := range n {
		r, err := d.Result(z[i*nz:(i+1)*nz], zhat[i*nz:(i+1)*nz])
		if err != nil {
			return dst, fmt.Errorf("image %d of %d: %w", i+1, n, err)
		}
		dst = append(dst, r)
	}
	return dst, nil
}
