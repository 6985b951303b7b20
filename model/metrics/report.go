package metrics

import (
	"fmt"
	"math"
)

// Report gathers the metrics of one evaluation, ready to be stored as JSON.
type Report struct {
	AUC float64 `json:"auc"`
	// AP is the average precision (see AveragePrecision).
	AP float64 `json:"ap"`
	// BestF1 is the highest F1 over all thresholds, reached at BestF1Threshold. Choosing
	// the threshold on the data it is measured on is optimistic: report it as such.
	BestF1          float64 `json:"best_f1"`
	BestF1Threshold float64 `json:"best_f1_threshold"`
	// F1AtThreshold is the F1 at the threshold the caller fixed beforehand (Threshold),
	// for example one calibrated on a validation split.
	F1AtThreshold float64 `json:"f1_at_threshold"`
	Threshold     float64 `json:"threshold"`
	// EER is the equal error rate (see EER).
	EER       float64 `json:"eer"`
	Positives int     `json:"positives"`
	Negatives int     `json:"negatives"`
}

// Evaluate computes a Report for scores and labels, with F1AtThreshold measured at the
// given threshold, which must be a number (±Inf and NaN are refused: JSON cannot hold
// them).
func Evaluate(scores []float64, labels []bool, threshold float64) (Report, error) {
	if math.IsNaN(threshold) || math.IsInf(threshold, 0) {
		return Report{}, fmt.Errorf("metrics: threshold %v is not a finite number", threshold)
	}
	auc, err := AUC(scores, labels)
	if err != nil {
		return Report{}, err
	}
	r := Report{AUC: auc, Threshold: threshold}
	if r.AP, err = AveragePrecision(scores, labels); err != nil {
		return Report{}, err
	}
	if r.BestF1Threshold, r.BestF1, err = BestF1(scores, labels); err != nil {
		return Report{}, err
	}
	if r.EER, _, err = EER(scores, labels); err != nil {
		return Report{}, err
	}
	c := At(scores, labels, threshold)
	r.F1AtThreshold = c.F1()
	r.Positives, r.Negatives = c.TP+c.FN, c.FP+c.TN
	return r, nil
}
