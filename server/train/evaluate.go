package train

import (
	"context"
	"fmt"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
	"github.com/ganomaly-go/ganomaly-go/server/data"
	"github.com/ganomaly-go/ganomaly-go/server/torch"
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
	Device    string
}

// Evaluation is a weights file's report on a test split.
type Evaluation struct {
	Dataset, AnomalyClass string
	// Report is over raw scores; F1AtThreshold is at the weights' calibrated threshold.
	Report metrics.Report
	Scores []float64
	Labels []bool
}

// Evaluate scores the test split of o.Data with the weights file f, as the pure-Go
// model would (eval-mode batch norm, one image independent of the others), on w.
func Evaluate(ctx context.Context, w *torch.Worker, f *model.WeightsFile, o EvalOptions) (*Evaluation, error) {
	if err := f.Config.Validate(); err != nil {
		return nil, err
	}
	if err := ValidateDevice(o.Device); err != nil {
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
	err = w.Do(func() error {
		device, err := torch.SelectDevice(o.Device)
		if err != nil {
			return err
		}
		g, err := newGenerator(f.Config, device, f.Tensors)
		if err != nil {
			return err
		}
		t := &trainer{ctx: ctx, opts: Options{BatchSize: o.BatchSize}, cfg: f.Config, device: device, g: g}
		s, err := t.score(split.Test, false, f.Calibration.Score)
		if err != nil {
			return err
		}
		ev.Scores = s.scores
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ev.Report, err = metrics.Evaluate(ev.Scores, ev.Labels, f.Calibration.Threshold); err != nil {
		return nil, err
	}
	return ev, nil
}
