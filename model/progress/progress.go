package progress

import (
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/card"
)

// Event kinds, in the order a run emits them: one "start", "step" every few
// iterations, one "epoch" per finished epoch, then "done" or "error".
const (
	EventStart = "start"
	EventStep  = "step"
	EventEpoch = "epoch"
	EventDone  = "done"
	EventError = "error"
)

// Event reports a run's progress.
type Event struct {
	Kind string    `json:"kind"`
	Time time.Time `json:"time"`
	// Epoch is the epoch in progress ("step") or just finished ("epoch"), from 1; in
	// "start", the number of epochs already finished (non-zero when resuming).
	Epoch  int `json:"epoch,omitempty"`
	Epochs int `json:"epochs,omitempty"`
	// Iteration counts training steps over the whole run, from 1; Iterations is the
	// total the run will take.
	Iteration  int           `json:"iteration,omitempty"`
	Iterations int           `json:"iterations,omitempty"`
	Losses     *model.Losses `json:"losses,omitempty"`
	// ImagesPerSecond is the training throughput since the previous "step" event, and
	// ETASeconds the time the run still needs at this session's pace ("step").
	ImagesPerSecond float64 `json:"images_per_second,omitempty"`
	ETASeconds      float64 `json:"eta_seconds,omitempty"`
	// Figures are a finished epoch's ("epoch").
	Figures *EpochFigures `json:"figures,omitempty"`
	// TestAUC is the run's final test AUC ("done").
	TestAUC float64 `json:"test_auc,omitempty"`
	// Protocol is the run's protocol; Label marks the paper protocol's optimistic
	// figures.
	Protocol string `json:"protocol,omitempty"`
	Label    string `json:"label,omitempty"`
	Message  string `json:"message,omitempty"`
}

// EpochFigures measure the model of one finished epoch.
type EpochFigures struct {
	Epoch int `json:"epoch"`
	// ValLoss is the validation normals' mean reconstruction error |x̂ − x|, which
	// selects the model in the honest protocol (lower is better), and ValScore their
	// mean raw anomaly score.
	ValLoss  float64 `json:"val_loss,omitempty"`
	ValScore float64 `json:"val_score,omitempty"`
	// TestAUC is the epoch's test AUC in the paper protocol (which selects on it).
	TestAUC float64 `json:"test_auc,omitempty"`
	// Best marks the epoch kept so far.
	Best bool `json:"best,omitempty"`
	// Samples are a few fixed validation images and this epoch's reconstructions of
	// them (eval-mode batch norm).
	Samples []Sample `json:"samples,omitempty"`
	// Watch shows how this epoch's scores of the validation normals and of the
	// anomalies set aside to watch training by (model/data's WatchFraction) separate;
	// nil without such anomalies. It never selects or calibrates the model.
	Watch *Separation `json:"watch,omitempty"`
}

// Separation is how the raw anomaly scores of normal images and of known anomalies
// separate: the ROC AUC, the two histograms (with the threshold that the validation
// normals would give now) and the ROC curve, thinned.
type Separation struct {
	AUC        float64         `json:"auc"`
	Histograms card.Histograms `json:"histograms"`
	ROC        []card.ROCPoint `json:"roc"`
}

// Sample is an image and its reconstruction x̂ = G(x), as PNG files (base64 in JSON).
type Sample struct {
	Input          []byte `json:"input"`
	Reconstruction []byte `json:"reconstruction"`
}
