package metrics

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Errors returned for input the metrics are not defined on. They are wrapped with the
// details, so test for them with errors.Is.
var (
	ErrLength     = errors.New("metrics: scores and labels differ in length")
	ErrEmpty      = errors.New("metrics: no scores")
	ErrNaN        = errors.New("metrics: a score is NaN")
	ErrOneClass   = errors.New("metrics: both normal and anomalous labels are needed")
	errNoPositive = fmt.Errorf("%w: no anomalous (true) label", ErrOneClass)
	errNoNegative = fmt.Errorf("%w: no normal (false) label", ErrOneClass)
)

// BoolLabels converts numeric labels to the bool labels this package takes: a non-zero
// value (1 = anomalous) becomes true.
func BoolLabels[T ~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~float32 | ~float64](labels []T) []bool {
	out := make([]bool, len(labels))
	for i, l := range labels {
		out[i] = l != 0
	}
	return out
}

// step is one distinct threshold of the curve: TP and FP count the images whose score is
// >= threshold.
type step struct {
	threshold float64
	tp, fp    int
}

// curve validates its input and returns the cumulative counts at every distinct score,
// in descending order of threshold, with the number of positives and negatives.
// Equal scores form one step, so ties move the ROC diagonally.
func curve(scores []float64, labels []bool) (steps []step, pos, neg int, err error) {
	if len(scores) != len(labels) {
		return nil, 0, 0, fmt.Errorf("%w: %d scores, %d labels", ErrLength, len(scores), len(labels))
	}
	if len(scores) == 0 {
		return nil, 0, 0, ErrEmpty
	}
	type pair struct {
		score float64
		label bool
	}
	pairs := make([]pair, len(scores))
	for i, s := range scores {
		if math.IsNaN(s) {
			return nil, 0, 0, fmt.Errorf("%w (index %d)", ErrNaN, i)
		}
		pairs[i] = pair{s, labels[i]}
		if labels[i] {
			pos++
		}
	}
	neg = len(scores) - pos
	if pos == 0 {
		return nil, 0, 0, fmt.Errorf("%w among %d scores", errNoPositive, len(scores))
	}
	if neg == 0 {
		return nil, 0, 0, fmt.Errorf("%w among %d scores", errNoNegative, len(scores))
	}
	// Descending. NaN is excluded above, so plain comparisons order every pair; they
	// are markedly faster than cmp.Compare, which must handle NaN.
	slices.SortFunc(pairs, func(a, b pair) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	steps = make([]step, 0, len(pairs))
	var tp, fp int
	for i, p := range pairs {
		if p.label {
			tp++
		} else {
			fp++
		}
		if i+1 == len(pairs) || pairs[i+1].score != p.score {
			steps = append(steps, step{p.score, tp, fp})
		}
	}
	return steps, pos, neg, nil
}

// Point is one point of a ROC curve: predicting anomalous every image whose score is
// >= Threshold gives false positive rate FPR and true positive rate TPR.
type Point struct{ Threshold, FPR, TPR float64 }

// ROC returns the receiver operating characteristic curve: one point per distinct score,
// by threshold descending, after a first point (0, 0) whose threshold is +Inf (nothing
// predicted anomalous; scikit-learn does the same). The last point, at the lowest score,
// is (1, 1). Equal scores form a single step. +Inf is not valid JSON: callers that
// marshal the curve must replace it.
func ROC(scores []float64, labels []bool) ([]Point, error) {
	steps, pos, neg, err := curve(scores, labels)
	if err != nil {
		return nil, err
	}
	pts := make([]Point, 0, len(steps)+1)
	pts = append(pts, Point{Threshold: math.Inf(1)})
	for _, s := range steps {
		pts = append(pts, Point{s.threshold, float64(s.fp) / float64(neg), float64(s.tp) / float64(pos)})
	}
	return pts, nil
}

// AUC returns the area under the ROC curve: the probability that a random anomalous
// image scores higher than a random normal one, ties counting one half (the Mann–Whitney
// U statistic over P·N). The trapezoids are summed in integers, so the result is exact
// up to the final division.
func AUC(scores []float64, labels []bool) (float64, error) {
	steps, pos, neg, err := curve(scores, labels)
	if err != nil {
		return 0, err
	}
	// Twice the area in units of 1/(P·N): Σ Δfp·(tp + tp_prev). It fits in an int64
	// for any n below 2^31.
	var twice int64
	var tp0, fp0 int
	for _, s := range steps {
		twice += int64(s.fp-fp0) * int64(s.tp+tp0)
		tp0, fp0 = s.tp, s.fp
	}
	return float64(twice) / (2 * float64(pos) * float64(neg)), nil
}

// AveragePrecision returns scikit-learn's average precision: Σ (R_k − R_{k−1})·P_k over
// the distinct thresholds by descending score, where P_k and R_k are the precision and
// recall at the k-th threshold. It is a step-wise sum, not the trapezoidal area under
// the precision–recall curve, and not interpolated.
func AveragePrecision(scores []float64, labels []bool) (float64, error) {
	steps, pos, _, err := curve(scores, labels)
	if err != nil {
		return 0, err
	}
	var ap float64
	tp0 := 0
	for _, s := range steps {
		if s.tp != tp0 {
			ap += float64(s.tp-tp0) * float64(s.tp) / float64(s.tp+s.fp)
			tp0 = s.tp
		}
	}
	return ap / float64(pos), nil
}

// BestF1 returns the threshold that maximises F1 over all distinct scores and that F1.
// Among equal F1 values the highest threshold (fewest images flagged) wins.
func BestF1(scores []float64, labels []bool) (threshold, f1 float64, err error) {
	steps, pos, _, err := curve(scores, labels)
	if err != nil {
		return 0, 0, err
	}
	f1 = -1
	for _, s := range steps {
		// F1 = 2TP / (2TP + FP + FN) with FN = P − TP.
		v := 2 * float64(s.tp) / float64(s.tp+s.fp+pos)
		if v > f1 {
			threshold, f1 = s.threshold, v
		}
	}
	return threshold, f1, nil
}

// EER returns the equal error rate, where the false positive rate equals the false
// negative rate 1 − TPR, interpolated linearly on the ROC segment that crosses
// FPR = 1 − TPR. The threshold is that of the ROC point nearest the crossing (never the
// +Inf of the first point), so At(threshold) gives rates close to, not exactly, the EER.
func EER(scores []float64, labels []bool) (eer, threshold float64, err error) {
	roc, err := ROC(scores, labels)
	if err != nil {
		return 0, 0, err
	}
	// d = FPR − FNR = FPR + TPR − 1 rises from −1 at (0,0) to 1 at (1,1) and never
	// falls along the curve, so it crosses zero exactly once.
	d := func(p Point) float64 { return p.FPR + p.TPR - 1 }
	for i := 1; i < len(roc); i++ {
		p0, p1 := roc[i-1], roc[i]
		d0, d1 := d(p0), d(p1)
		if d1 < 0 {
			continue
		}
		alpha := -d0 / (d1 - d0) // d0 < 0 <= d1, so d1 > d0
		eer = p0.FPR + alpha*(p1.FPR-p0.FPR)
		threshold = p1.Threshold
		if alpha < 0.5 && i > 1 {
			threshold = p0.Threshold
		}
		return eer, threshold, nil
	}
	panic("metrics: ROC does not end at (1, 1)") // curve guarantees it does
}
