package train

import (
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
)

// Event kinds, in the order a run emits them: one "start", "step" every
// Options.LogEvery iterations, one "epoch" per finished epoch, then "done" or "error".
const (
	EventStart = "start"
	EventStep  = "step"
	EventEpoch = "epoch"
	EventDone  = "done"
	EventError = "error"
)

// Event reports progress. Events are delivered synchronously from the torch worker's
// thread: a slow callback slows training, so hand them on rather than doing work.
type Event struct {
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	// Epoch is the epoch in progress ("step") or just finished ("epoch"), from 1; in
	// "start", the number of epochs already finished (non-zero when resuming).
	Epoch  int `json:"epoch"`
	Epochs int `json:"epochs"`
	// Iteration counts training steps over the whole run, from 1; Iterations is the
	// total the run will take (after Options.MaxIterations).
	Iteration  int     `json:"iteration"`
	Iterations int     `json:"iterations"`
	Losses     *Losses `json:"losses,omitempty"`
	// ImagesPerSecond is the training throughput since the previous "step" event.
	ImagesPerSecond float64 `json:"images_per_second,omitempty"`
	// ValScore is the mean raw anomaly score of the validation normals and ValLoss
	// their mean reconstruction error |x̂ − x| (honest protocol; lower is better, and
	// ValLoss selects the model).
	ValScore float64 `json:"val_score,omitempty"`
	ValLoss  float64 `json:"val_loss,omitempty"`
	// ValAUC is always 0 here: the validation split has normal images only, so it has
	// no AUC. The field is kept for clients that show one.
	ValAUC float64 `json:"val_auc,omitempty"`
	// TestAUC is the per-epoch test AUC in the paper protocol, and the final test AUC
	// in a "done" event.
	TestAUC float64 `json:"test_auc,omitempty"`
	// Best marks an "epoch" event whose model is the best so far.
	Best bool `json:"best,omitempty"`
	// Samples are, in an "epoch" event, Options.Samples fixed images and the epoch's
	// reconstructions of them (eval-mode batch norm), as PNG files.
	Samples []Sample `json:"samples,omitempty"`
	// Protocol is the run's protocol; Label is PaperLabel in the paper protocol.
	Protocol string        `json:"protocol,omitempty"`
	Label    string        `json:"label,omitempty"`
	Message  string        `json:"message,omitempty"`
	ETA      time.Duration `json:"eta_ns,omitempty"` // nanoseconds, time.Duration's unit
}

// Result is what a run produces.
type Result struct {
	// Weights is the exported generator with its calibration and provenance.
	Weights *model.WeightsFile
	// Test is the test-set report. Honest: raw scores of the kept model in eval mode,
	// F1AtThreshold at the threshold calibrated on validation normals. Paper: the
	// official figures of the kept epoch (train-mode batch norm, min–max scaled
	// scores, threshold 0.20).
	Test metrics.Report
	// Exported is, in the paper protocol only, the test report of the exported model
	// as it scores one image at a time (eval-mode batch norm, the calibration stored
	// in Weights); nil in the honest protocol, where Test already is that.
	Exported *metrics.Report
	// BestEpoch is the kept epoch, from 1; Epochs the number of epochs finished.
	BestEpoch, Epochs int
	Protocol          string
	// Label is PaperLabel in the paper protocol, empty otherwise.
	Label string
	// Scores and Labels are the test scores behind Test (raw, or min–max scaled in the
	// paper protocol) and their labels (true = anomalous), for the model card's
	// histograms and ROC.
	Scores []float64
	Labels []bool
	// Latents are the test images' codes z = G_E(x) (len(Labels)×nz, eval-mode batch
	// norm), for the model card's latent map.
	Latents []float32
	// History holds the "epoch" events.
	History []Event
	// Counts of the split's images.
	TrainImages, ValidationImages, TestImages int
	// Iterations is the number of training steps taken in all.
	Iterations int
	// Options are the options the run used (after defaults).
	Options Options
	// Warnings from loading the data.
	Warnings []string
}

// Sample is an image and its reconstruction x̂ = G(x), as PNG files.
type Sample struct {
	Input          []byte `json:"input"`
	Reconstruction []byte `json:"reconstruction"`
}
