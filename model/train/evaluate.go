package train

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
)

// EvalOptions choose the data a weights file is evaluated on.
type EvalOptions struct {
	// Data is the data set; its Size and Channels are taken from the weights' config.
	// To evaluate on the images the model never saw, use the data seed, validation
	// fraction and limits of its training run (the provenance notes list them).
	Data data.Options
	// BatchSize is the number of images per forward pass (any value scores the same:
	// batch norm runs in eval mode).
	BatchSize int
}

// Evaluation is a weights file's report on a test split.
type Evaluation struct {
	Dataset, AnomalyClass string
	// Report is over raw scores; F1AtThreshold is at the weights' calibrated threshold.
	Report metrics.Report
	Scores []float64
	Labels []bool
	// Z holds the latent code z = G_E(x) of every test image, Latent floats each, in
	// the order of Scores (a model card's latent map is made from them).
	Z []float32
}

// Evaluate scores the test split of o.Data with the weights file f with the pure-Go
// model, as the server and the browser score (eval-mode batch norm, one image
// independent of the others), on every core. It needs no libtorch.
func Evaluate(ctx context.Context, f *model.WeightsFile, o EvalOptions) (*Evaluation, error) {
	if err := f.Config.Validate(); err != nil {
		return nil, err
	}
	if o.BatchSize < 1 || o.BatchSize > MaxBatchSize {
		return nil, fmt.Errorf("batch size %d: use 1 to %d", o.BatchSize, MaxBatchSize)
	}
	o.Data.Size, o.Data.Channels = f.Config.ImageSize, f.Config.Channels
	split, err := data.Load(o.Data)
	if err != nil {
		return nil, err
	}
	if normal, anomalous := split.Test.Count(); normal == 0 || anomalous == 0 {
		return nil, fmt.Errorf("the test split has %d normal and %d anomalous images: evaluation needs both", normal, anomalous)
	}
	ev := &Evaluation{Dataset: split.Dataset, AnomalyClass: split.AnomalyClass, Labels: split.Test.Labels}
	g, err := model.NewGenerator(f.Config, f.Tensors)
	if err != nil {
		return nil, err
	}
	set, nz := split.Test, f.Config.Latent
	indices := make([]int, 0, o.BatchSize)
	var batch []float32
	for start := 0; start < set.N; start += o.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(o.BatchSize, set.N-start)
		indices = indices[:0]
		for i := range n {
			indices = append(indices, start+i)
		}
		batch = set.Batch(batch, indices)
		z, _, zhat := g.Forward(batch, n)
		ev.Z = append(ev.Z, z[:n*nz]...)
		for i := range n {
			s := model.AnomalyScore(z[i*nz:(i+1)*nz], zhat[i*nz:(i+1)*nz], f.Calibration.Score)
			if !finite(s) {
				return nil, fmt.Errorf("test image %d scores %v: the weights give non-finite outputs", start+i, s)
			}
			ev.Scores = append(ev.Scores, s)
		}
	}
	if ev.Report, err = metrics.Evaluate(ev.Scores, ev.Labels, f.Calibration.Threshold); err != nil {
		return nil, err
	}
	return ev, nil
}

// TestSplitOf rebuilds the data options of the test split a weights file was trained
// beside: the data set, anomaly class and seed of its provenance, and the data seed and
// test limit of its model card's training section when there is one (training may be
// nil). dir is the data's folder: the usual place when empty, and required for a model
// trained on a folder. Another split (another data seed) could put training images in
// the test set.
func TestSplitOf(f *model.WeightsFile, training *CardTraining, dir string) (data.Options, error) {
	p := f.Provenance
	o := data.Options{Dataset: p.Dataset, Dir: dir, Seed: p.Seed}
	if training != nil {
		// The validation fraction and MaxTrain do not change the test split.
		o.Seed, o.MaxTest, o.WatchFraction = training.DataSeed, training.MaxTest, training.WatchFraction
	}
	switch {
	case strings.HasPrefix(p.Dataset, data.Folder+":"):
		o.Dataset = data.Folder
		if dir == "" {
			return o, fmt.Errorf("the model was trained on a folder (%s): give its root", p.Dataset)
		}
	case p.Dataset == data.MNIST || p.Dataset == data.FashionMNIST:
		k, err := data.ClassIndex(p.Dataset, p.AnomalyClass)
		if err != nil {
			return o, err
		}
		o.AnomalyClass = k
	case p.Dataset == "":
		return o, errors.New("its provenance names no data set")
	}
	return o, nil
}
