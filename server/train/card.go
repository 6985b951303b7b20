package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
)

// Model cards are JSON files written beside a weights file (same name, extension
// .json) for people and for the browser's teaching view: what the model is, how it was
// trained and selected, and how it did on the test set, with the ROC curve and the
// score histograms of normal and anomalous test images.
const (
	CardFormat        = "ganomaly-go/model-card"
	CardFormatVersion = 1
	// cardROCPoints bounds the ROC curve kept in a card; cardBins is the number of
	// histogram bins.
	cardROCPoints = 256
	cardBins      = 40
)

// ModelCard describes a trained model.
type ModelCard struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	Title         string `json:"title"`
	Summary       string `json:"summary"`
	// Label is PaperLabel for a paper-protocol model: its test figures come from
	// test-set model selection and are optimistic.
	Label    string `json:"label,omitempty"`
	Protocol string `json:"protocol"`
	// Weights is the weights file's name, in the same directory.
	Weights      string            `json:"weights,omitempty"`
	Dataset      string            `json:"dataset"`
	AnomalyClass string            `json:"anomaly_class"`
	Config       model.Config      `json:"config"`
	Calibration  model.Calibration `json:"calibration"`
	Provenance   model.Provenance  `json:"provenance"`
	Training     CardTraining      `json:"training"`
	// Test is the test report; ScoreScale says which scores it is over: "raw" (the
	// anomaly score A(x)) or "min-max over the test set" (paper protocol).
	Test       metrics.Report `json:"test"`
	ScoreScale string         `json:"score_scale"`
	// ExportedTest is, for a paper-protocol model, the test report of the exported
	// model in eval mode over raw scores.
	ExportedTest *metrics.Report `json:"exported_test,omitempty"`
	// ROC is the test ROC curve, thinned to at most a few hundred points.
	ROC        []ROCPoint     `json:"roc"`
	Histograms CardHistograms `json:"histograms"`
	// History holds one "epoch" event per epoch.
	History []Event `json:"history"`
}

// CardTraining summarises how the model was trained.
type CardTraining struct {
	Epochs             int     `json:"epochs"`
	BestEpoch          int     `json:"best_epoch"`
	Iterations         int     `json:"iterations"`
	BatchSize          int     `json:"batch_size"`
	LR                 float64 `json:"lr"`
	Beta1              float64 `json:"beta1"`
	Beta2              float64 `json:"beta2"`
	WAdv               float64 `json:"w_adv"`
	WCon               float64 `json:"w_con"`
	WEnc               float64 `json:"w_enc"`
	Seed               int64   `json:"seed"`
	DataSeed           int64   `json:"data_seed"`
	ValidationFraction float64 `json:"validation_fraction"`
	MaxTrain           int     `json:"max_train,omitempty"`
	MaxTest            int     `json:"max_test,omitempty"`
	TrainImages        int     `json:"train_images"`
	ValidationImages   int     `json:"validation_images"`
	TestImages         int     `json:"test_images"`
	Selection          string  `json:"selection"`
}

// ROCPoint is one point of the ROC curve. Threshold is null for the first point
// (nothing flagged), whose threshold is +∞.
type ROCPoint struct {
	Threshold *float64 `json:"threshold"`
	FPR       float64  `json:"fpr"`
	TPR       float64  `json:"tpr"`
}

// CardHistograms are the test scores of normal and anomalous images over one range,
// with the threshold on the same scale.
type CardHistograms struct {
	Normal    metrics.Histogram `json:"normal"`
	Anomalous metrics.Histogram `json:"anomalous"`
	Threshold float64           `json:"threshold"`
}

// NewModelCard describes res; weightsName is the weights file's base name.
func NewModelCard(res *Result, weightsName string) (*ModelCard, error) {
	w := res.Weights
	o := res.Options
	c := &ModelCard{
		Format: CardFormat, FormatVersion: CardFormatVersion,
		Label: res.Label, Protocol: res.Protocol, Weights: weightsName,
		Dataset: w.Provenance.Dataset, AnomalyClass: w.Provenance.AnomalyClass,
		Config: w.Config, Calibration: w.Calibration, Provenance: w.Provenance,
		Test: res.Test, ExportedTest: res.Exported, History: res.History,
		Training: CardTraining{
			Epochs: res.Epochs, BestEpoch: res.BestEpoch, Iterations: res.Iterations,
			BatchSize: o.BatchSize, LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2,
			WAdv: o.WAdv, WCon: o.WCon, WEnc: o.WEnc, Seed: o.Seed, DataSeed: o.Data.Seed,
			ValidationFraction: math.Max(0, o.Data.ValidationFraction), MaxTrain: o.Data.MaxTrain, MaxTest: o.Data.MaxTest,
			TrainImages: res.TrainImages, ValidationImages: res.ValidationImages, TestImages: res.TestImages,
		},
	}
	c.Title = fmt.Sprintf("GANomaly on %s, anomaly class %s (%s protocol)", c.Dataset, c.AnomalyClass, res.Protocol)
	threshold := w.Calibration.Threshold
	if res.Protocol == Paper {
		c.ScoreScale = "min-max over the test set"
		threshold = PaperThreshold
		c.Training.Selection = "epoch with the best test AUC (" + PaperLabel + ")"
		c.Summary = fmt.Sprintf("Trained on the normal images only, as the official code does, and selected by its test AUC: %s. Test AUC %.3f is optimistic for that reason.", PaperLabel, res.Test.AUC)
	} else {
		c.ScoreScale = "raw"
		c.Training.Selection = "epoch with the lowest mean validation reconstruction error |x̂ − x| (validation normals, eval-mode batch norm)"
		c.Summary = fmt.Sprintf("Trained on normal images only; selected and calibrated on held-out normal images, the test set touched once: test AUC %.3f, F1 %.3f at the calibrated threshold.", res.Test.AUC, res.Test.F1AtThreshold)
	}
	roc, err := metrics.ROC(res.Scores, res.Labels)
	if err != nil {
		return nil, err
	}
	c.ROC = thinROC(roc, cardROCPoints)
	var normal, anomalous []float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range res.Scores {
		if res.Labels[i] {
			anomalous = append(anomalous, s)
		} else {
			normal = append(normal, s)
		}
		lo, hi = math.Min(lo, s), math.Max(hi, s)
	}
	if !finite(lo) || !finite(hi) {
		return nil, fmt.Errorf("test scores span [%v, %v]: no histogram possible", lo, hi)
	}
	c.Histograms = CardHistograms{
		Normal:    metrics.NewHistogram(normal, lo, hi, cardBins),
		Anomalous: metrics.NewHistogram(anomalous, lo, hi, cardBins),
		Threshold: threshold,
	}
	return c, nil
}

// thinROC keeps the first and last points and every point at least 2/maxPoints away
// (FPR plus TPR distance) from the last one kept: the curve runs a distance of 2 from
// (0, 0) to (1, 1), so at most maxPoints+2 remain, spread along its length, which keeps
// its corners where thinning by index would cut them.
func thinROC(roc []metrics.Point, maxPoints int) []ROCPoint {
	step := 2 / float64(maxPoints)
	var out []ROCPoint
	add := func(p metrics.Point) {
		rp := ROCPoint{FPR: p.FPR, TPR: p.TPR}
		if !math.IsInf(p.Threshold, 0) {
			t := p.Threshold
			rp.Threshold = &t
		}
		out = append(out, rp)
	}
	for i, p := range roc {
		if i == 0 || i == len(roc)-1 {
			add(p)
			continue
		}
		last := out[len(out)-1]
		if math.Abs(p.FPR-last.FPR)+math.Abs(p.TPR-last.TPR) >= step {
			add(p)
		}
	}
	return out
}

// CardPath is where the card of a weights file goes: the same path with .json
// instead of .safetensors.
func CardPath(weightsPath string) string {
	return strings.TrimSuffix(weightsPath, filepath.Ext(weightsPath)) + ".json"
}

// WriteCard writes c as indented JSON to path atomically.
func WriteCard(path string, c *ModelCard) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes data to a temporary file beside path and renames it over
// path, so that a reader never sees half a file.
func writeFileAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Save writes res's weights file to weightsPath and its model card beside it, both
// atomically, creating the directory when needed.
func Save(res *Result, weightsPath string) (cardPath string, err error) {
	if err := os.MkdirAll(filepath.Dir(weightsPath), 0o755); err != nil {
		return "", err
	}
	if err := res.Weights.WriteFile(weightsPath); err != nil {
		return "", err
	}
	card, err := NewModelCard(res, filepath.Base(weightsPath))
	if err != nil {
		return "", err
	}
	cardPath = CardPath(weightsPath)
	return cardPath, WriteCard(cardPath, card)
}
