package model

import "fmt"

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

// Result calibrates the raw score of one image's latent pair.
func (d *Detector) Result(z, zhat []float32) Result {
	c := d.File.Calibration
	raw := AnomalyScore(z, zhat, c.Score)
	return Result{Raw: raw, Score: c.Normalize(raw), Anomalous: c.Anomalous(raw), Calibrated: c.Calibrated()}
}

// Score runs n images (NCHW in [−1, 1]) and appends one Result per image to dst.
// Like Generator.Forward it is not safe for concurrent use.
func (d *Detector) Score(dst []Result, x []float32, n int) []Result {
	z, _, zhat := d.gen.Forward(x, n)
	nz := d.File.Config.Latent
	for i := range n {
		dst = append(dst, d.Result(z[i*nz:(i+1)*nz], zhat[i*nz:(i+1)*nz]))
	}
	return dst
}
