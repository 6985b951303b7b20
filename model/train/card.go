package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model/atomicfile"
	"github.com/ganomaly-go/ganomaly-go/model/card"
)

// Model cards are JSON files written beside a weights file (same name, extension
// .json) for people and for the browser's teaching view: what the model is, how it was
// trained and selected, and how it did on the test set, with the ROC curve, the score
// histograms of normal and anomalous test images and a 2-D map of their latent codes.
// The schema is package model/card, shared with the browser; the names below keep the
// trainer's callers unchanged.
const (
	CardFormat        = card.Format
	CardFormatVersion = card.FormatVersion
	// cardROCPoints bounds the ROC curve kept in a card; cardBins is the number of
	// histogram bins; cardMapPoints the number of projected codes per class in the
	// latent map.
	cardROCPoints = card.ROCPoints
	cardBins      = card.Bins
	cardMapPoints = card.MapPoints
)

type (
	ModelCard      = card.Card
	CardTraining   = card.Training
	ROCPoint       = card.ROCPoint
	CardHistograms = card.Histograms
)

// NewModelCard describes res; weightsName is the weights file's base name.
func NewModelCard(res *Result, weightsName string) (*ModelCard, error) {
	w := res.Weights
	o := res.Options
	c := &ModelCard{
		Format: CardFormat, FormatVersion: CardFormatVersion,
		Label: res.Label, Protocol: res.Protocol, Weights: weightsName,
		Dataset: w.Provenance.Dataset, AnomalyClass: w.Provenance.AnomalyClass,
		Config: w.Config, Calibration: w.Calibration, Provenance: w.Provenance,
		Test: res.Test, ExportedTest: res.Exported,
		Training: CardTraining{
			Epochs: res.Epochs, BestEpoch: res.BestEpoch, Iterations: res.Iterations,
			BatchSize: o.BatchSize, LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2,
			WAdv: o.WAdv, WCon: o.WCon, WEnc: o.WEnc, Seed: o.Seed, DataSeed: o.Data.Seed,
			ValidationFraction: math.Max(0, o.Data.ValidationFraction), MaxTrain: o.Data.MaxTrain, MaxTest: o.Data.MaxTest,
			WatchFraction: o.Data.WatchFraction, WatchedAnomalies: res.WatchImages,
			TrainImages: res.TrainImages, ValidationImages: res.ValidationImages, TestImages: res.TestImages,
		},
	}
	history, err := json.Marshal(res.History)
	if err != nil {
		return nil, err
	}
	c.History = history
	c.Title = fmt.Sprintf("GANomaly on %s, anomaly class %s (%s protocol)", c.Dataset, c.AnomalyClass, res.Protocol)
	threshold := w.Calibration.Threshold
	if res.Protocol == Paper {
		c.ScoreScale = card.ScaleTestMinMax
		threshold = PaperThreshold
		c.Training.Selection = "epoch with the best test AUC (" + PaperLabel + ")"
		c.Summary = fmt.Sprintf("Trained on the normal images only, as the official code does, and selected by its test AUC: %s. Test AUC %.3f is optimistic for that reason.", PaperLabel, res.Test.AUC)
	} else {
		c.ScoreScale = card.ScaleRaw
		c.Training.Selection = "epoch with the lowest mean validation reconstruction error |x̂ − x| (validation normals, eval-mode batch norm)"
		c.Summary = fmt.Sprintf("Trained on normal images only; selected and calibrated on held-out normal images, the test set touched once: test AUC %.3f, F1 %.3f at the calibrated threshold.", res.Test.AUC, res.Test.F1AtThreshold)
	}
	if !res.Tested {
		c.Title = fmt.Sprintf("GANomaly on %s, normal images only", c.Dataset)
		c.Summary = fmt.Sprintf("Trained, selected and calibrated on normal images alone (%d validation normals set the threshold, which flags about %.0f%% of normal images). No known anomalies were given, so it has no test figures: try it on images you know.",
			res.ValidationImages, 100*(1-o.CalibrationQuantile))
		return c, nil
	}
	if err := c.SetTestFigures(res.Scores, res.Labels, threshold); err != nil {
		return nil, err
	}
	if res.Latents != nil {
		c.PCA = card.LatentMap(res.Latents, res.Labels, w.Config.Latent,
			fmt.Sprintf("latent codes z = G_E(x) of the %d test images (normal and anomalous), eval-mode batch norm", len(res.Labels)))
	}
	return c, nil
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
	return atomicfile.WriteFile(path, append(b, '\n'))
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
