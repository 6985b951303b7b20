package train

import (
	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
	"github.com/ganomaly-go/ganomaly-go/model/progress"
)

// Event kinds, in the order a run emits them: one "start", "step" every
// Options.LogEvery iterations, one "epoch" per finished epoch, then "done" or "error".
const (
	EventStart = progress.EventStart
	EventStep  = progress.EventStep
	EventEpoch = progress.EventEpoch
	EventDone  = progress.EventDone
	EventError = progress.EventError
)

// Event reports progress; its schema is package progress's, shared with the wire.
// Events are delivered synchronously from the engine's thread: a slow callback slows
// training, so hand them on rather than doing work.
type (
	Event        = progress.Event
	EpochFigures = progress.EpochFigures
	Sample       = progress.Sample
	Separation   = progress.Separation
)

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
	// Tested is false for a run without known anomalies (a folder of normal images
	// alone): Test, Scores and Latents are then empty, and the model is calibrated on
	// validation normals only.
	Tested bool
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
	// Counts of the split's images; WatchImages are the anomalies set aside from the
	// test to watch training by.
	TrainImages, ValidationImages, TestImages, WatchImages int
	// Iterations is the number of training steps taken in all.
	Iterations int
	// Options are the options the run used (after defaults).
	Options Options
	// Warnings from loading the data.
	Warnings []string
}
