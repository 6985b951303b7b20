package metrics

import "fmt"

// Confusion counts the outcomes at one threshold: TP anomalous images flagged, FP normal
// images flagged, TN normal images passed, FN anomalous images passed.
type Confusion struct{ TP, FP, TN, FN int }

// At returns the confusion matrix when every image whose score is >= threshold is
// predicted anomalous. A NaN score is never >= anything, so it counts as predicted
// normal. It panics when scores and labels differ in length.
func At(scores []float64, labels []bool, threshold float64) Confusion {
	if len(scores) != len(labels) {
		panic(fmt.Sprintf("metrics: At got %d scores and %d labels", len(scores), len(labels)))
	}
	var c Confusion
	for i, s := range scores {
		flagged := s >= threshold
		switch {
		case flagged && labels[i]:
			c.TP++
		case flagged:
			c.FP++
		case labels[i]:
			c.FN++
		default:
			c.TN++
		}
	}
	return c
}

// ratio is num/den, or 0 when den is 0 (scikit-learn's zero_division=0).
func ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// Precision is TP/(TP+FP), 0 when nothing is flagged.
func (c Confusion) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 0 when there are no anomalous images. It equals TPR.
func (c Confusion) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// TPR is the true positive rate TP/(TP+FN), the same as Recall.
func (c Confusion) TPR() float64 { return c.Recall() }

// FPR is the false positive rate FP/(FP+TN), 0 when there are no normal images.
func (c Confusion) FPR() float64 { return ratio(c.FP, c.FP+c.TN) }

// F1 is the harmonic mean of precision and recall, 2TP/(2TP+FP+FN), 0 when TP, FP and
// FN are all 0.
func (c Confusion) F1() float64 { return ratio(2*c.TP, 2*c.TP+c.FP+c.FN) }

// Accuracy is (TP+TN)/(TP+FP+TN+FN), 0 for an empty matrix.
func (c Confusion) Accuracy() float64 { return ratio(c.TP+c.TN, c.TP+c.FP+c.TN+c.FN) }
