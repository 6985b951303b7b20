package metrics

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const tol = 1e-12

func near(a, b, eps float64) bool { return math.Abs(a-b) <= eps }

// mannWhitney is the naive O(P·N) reference for AUC: over all (anomalous, normal) pairs,
// 1 when the anomalous image scores higher, 1/2 on a tie.
func mannWhitney(scores []float64, labels []bool) float64 {
	var u float64
	var pos, neg int
	for i, si := range scores {
		if !labels[i] {
			neg++
			continue
		}
		pos++
		for j, sj := range scores {
			if labels[j] {
				continue
			}
			switch {
			case si > sj:
				u++
			case si == sj:
				u += 0.5
			}
		}
	}
	return u / float64(pos*neg)
}

// naiveAP is sklearn's average precision evaluated with At at every distinct score.
func naiveAP(scores []float64, labels []bool) float64 {
	seen := map[float64]bool{}
	var ths []float64
	for _, s := range scores {
		if !seen[s] {
			seen[s] = true
			ths = append(ths, s)
		}
	}
	// descending
	for i := range ths {
		for j := i + 1; j < len(ths); j++ {
			if ths[j] > ths[i] {
				ths[i], ths[j] = ths[j], ths[i]
			}
		}
	}
	var ap, r0 float64
	for _, t := range ths {
		c := At(scores, labels, t)
		ap += (c.Recall() - r0) * c.Precision()
		r0 = c.Recall()
	}
	return ap
}

func randomCase(rng *rand.Rand, n, levels int) ([]float64, []bool) {
	scores := make([]float64, n)
	labels := make([]bool, n)
	for i := range scores {
		labels[i] = rng.IntN(3) == 0
		if levels > 0 { // quantised scores: many ties
			scores[i] = float64(rng.IntN(levels))
		} else {
			scores[i] = rng.NormFloat64()
		}
		if labels[i] {
			scores[i] += float64(rng.IntN(2)) // mildly informative
		}
	}
	labels[0], labels[1] = true, false // both classes present
	return scores, labels
}

func TestHandComputed(t *testing.T) {
	scores := []float64{0.1, 0.4, 0.35, 0.8}
	labels := BoolLabels([]int{0, 0, 1, 1})

	auc, err := AUC(scores, labels)
	if err != nil || !near(auc, 0.75, tol) {
		t.Errorf("AUC = %v, %v; want 0.75", auc, err)
	}
	ap, err := AveragePrecision(scores, labels)
	if err != nil || !near(ap, 5.0/6, tol) { // sklearn: 0.8333…
		t.Errorf("AP = %v, %v; want 0.8333", ap, err)
	}
	roc, err := ROC(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	want := []Point{{math.Inf(1), 0, 0}, {0.8, 0, 0.5}, {0.4, 0.5, 0.5}, {0.35, 0.5, 1}, {0.1, 1, 1}}
	if len(roc) != len(want) {
		t.Fatalf("ROC = %v, want %v", roc, want)
	}
	for i := range want {
		if roc[i] != want[i] {
			t.Errorf("ROC[%d] = %v, want %v", i, roc[i], want[i])
		}
	}
	th, f1, err := BestF1(scores, labels)
	if err != nil || th != 0.35 || !near(f1, 0.8, tol) {
		t.Errorf("BestF1 = %v, %v, %v; want 0.35, 0.8", th, f1, err)
	}
	eer, eth, err := EER(scores, labels)
	if err != nil || !near(eer, 0.5, tol) || eth != 0.4 {
		t.Errorf("EER = %v at %v, %v; want 0.5 at 0.4", eer, eth, err)
	}
}

func TestTies(t *testing.T) {
	// Anomalous scores 1, 2, 3; normal 1, 2. U = 0.5 + 1.5 + 2 = 4 of 6 pairs.
	scores := []float64{1, 1, 2, 2, 3}
	labels := BoolLabels([]int{0, 1, 0, 1, 1})
	auc, _ := AUC(scores, labels)
	if !near(auc, 4.0/6, tol) {
		t.Errorf("AUC = %v, want %v", auc, 4.0/6)
	}
	// Thresholds 3, 2, 1: precision 1, 2/3, 3/5, each for a third of the recall.
	ap, _ := AveragePrecision(scores, labels)
	if !near(ap, 34.0/45, tol) {
		t.Errorf("AP = %v, want %v", ap, 34.0/45)
	}
	roc, _ := ROC(scores, labels)
	if len(roc) != 4 { // +Inf and three distinct scores: a tie is one step
		t.Errorf("ROC has %d points, want 4: %v", len(roc), roc)
	}

	// All scores equal: the ROC is the diagonal in one step.
	same := []float64{7, 7, 7, 7}
	lab := BoolLabels([]int{1, 0, 0, 0})
	roc, _ = ROC(same, lab)
	if len(roc) != 2 || roc[1] != (Point{7, 1, 1}) {
		t.Errorf("ROC of equal scores = %v", roc)
	}
	auc, _ = AUC(same, lab)
	ap, _ = AveragePrecision(same, lab)
	eer, th, _ := EER(same, lab)
	if auc != 0.5 || ap != 0.25 || eer != 0.5 || th != 7 {
		t.Errorf("equal scores: AUC %v AP %v EER %v at %v; want 0.5 0.25 0.5 at 7", auc, ap, eer, th)
	}
}

func TestPerfectAndInverted(t *testing.T) {
	scores := []float64{0.1, 0.2, 0.3, 0.7, 0.8}
	labels := BoolLabels([]int{0, 0, 0, 1, 1})
	auc, _ := AUC(scores, labels)
	ap, _ := AveragePrecision(scores, labels)
	th, f1, _ := BestF1(scores, labels)
	eer, eth, _ := EER(scores, labels)
	if auc != 1 || ap != 1 || f1 != 1 || th != 0.7 || eer != 0 || eth != 0.7 {
		t.Errorf("perfect: AUC %v AP %v F1 %v at %v EER %v at %v", auc, ap, f1, th, eer, eth)
	}
	if c := At(scores, labels, th); c != (Confusion{TP: 2, TN: 3}) {
		t.Errorf("At(best threshold) = %+v", c)
	}

	inv := make([]float64, len(scores))
	for i, s := range scores {
		inv[i] = -s
	}
	auc, _ = AUC(inv, labels)
	ap, _ = AveragePrecision(inv, labels)
	eer, _, _ = EER(inv, labels)
	if auc != 0 || !near(ap, (1.0/4+2.0/5)/2, tol) || eer != 1 { // positives found last: precision 1/4 then 2/5
		t.Errorf("inverted: AUC %v AP %v EER %v", auc, ap, eer)
	}
}

func TestRandomScoresGiveHalf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	scores := make([]float64, n)
	labels := make([]bool, n)
	for i := range scores {
		scores[i] = rng.Float64()
		labels[i] = rng.IntN(4) == 0
	}
	auc, err := AUC(scores, labels)
	if err != nil || math.Abs(auc-0.5) > 0.02 { // the standard error is about 0.005
		t.Errorf("AUC of random scores = %v, %v", auc, err)
	}
	eer, _, _ := EER(scores, labels)
	if math.Abs(eer-0.5) > 0.02 {
		t.Errorf("EER of random scores = %v", eer)
	}
}

func TestAgainstNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{2, 3, 5, 10, 31, 100, 257} {
		for _, levels := range []int{0, 2, 5, 20} {
			scores, labels := randomCase(rng, n, levels)
			auc, err := AUC(scores, labels)
			if err != nil {
				t.Fatal(err)
			}
			if want := mannWhitney(scores, labels); !near(auc, want, 1e-12) {
				t.Errorf("n=%d levels=%d: AUC %v, Mann–Whitney %v (diff %g)", n, levels, auc, want, auc-want)
			}
			ap, _ := AveragePrecision(scores, labels)
			if want := naiveAP(scores, labels); !near(ap, want, 1e-12) {
				t.Errorf("n=%d levels=%d: AP %v, naive %v", n, levels, ap, want)
			}

			// Every ROC point is what At gives at its threshold, and the curve is monotone.
			roc, _ := ROC(scores, labels)
			if roc[0] != (Point{math.Inf(1), 0, 0}) || roc[len(roc)-1].FPR != 1 || roc[len(roc)-1].TPR != 1 {
				t.Errorf("n=%d: ROC ends %v … %v", n, roc[0], roc[len(roc)-1])
			}
			for i, p := range roc {
				c := At(scores, labels, p.Threshold)
				if c.FPR() != p.FPR || c.TPR() != p.TPR {
					t.Errorf("n=%d: ROC[%d] = %v, At gives FPR %v TPR %v", n, i, p, c.FPR(), c.TPR())
				}
				if i > 0 && (p.Threshold >= roc[i-1].Threshold || p.FPR < roc[i-1].FPR || p.TPR < roc[i-1].TPR) {
					t.Errorf("n=%d: ROC not monotone at %d: %v after %v", n, i, p, roc[i-1])
				}
			}

			// BestF1 is the maximum of F1 over every point's threshold.
			th, f1, _ := BestF1(scores, labels)
			if got := At(scores, labels, th).F1(); got != f1 {
				t.Errorf("n=%d: BestF1 %v at %v, At gives %v", n, f1, th, got)
			}
			for _, p := range roc[1:] {
				if v := At(scores, labels, p.Threshold).F1(); v > f1 {
					t.Errorf("n=%d: F1 %v at %v beats BestF1 %v", n, v, p.Threshold, f1)
				}
			}

			// At the EER, FPR equals FNR on the interpolated segment; the threshold is a
			// ROC point's.
			eer, eth, _ := EER(scores, labels)
			if eer < 0 || eer > 1 || math.IsInf(eth, 0) {
				t.Errorf("n=%d: EER %v at %v", n, eer, eth)
			}
		}
	}
}

func TestEERInterpolates(t *testing.T) {
	// ROC (0,0) → (0.5,0) → (1,1): FPR+TPR−1 is −0.5 then 1, crossing a third of the
	// way along the second segment at FPR = 0.5 + 0.5/3 = 2/3, where TPR = 1/3.
	scores := []float64{0.9, 0.5, 0.5}
	labels := BoolLabels([]int{0, 1, 0})
	eer, th, err := EER(scores, labels)
	if err != nil || !near(eer, 2.0/3, tol) || th != 0.9 {
		t.Errorf("EER = %v at %v, %v; want 2/3 at 0.9", eer, th, err)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name   string
		scores []float64
		labels []bool
		want   error
	}{
		{"length", []float64{1, 2}, []bool{true}, ErrLength},
		{"empty", nil, nil, ErrEmpty},
		{"nan", []float64{1, math.NaN()}, []bool{true, false}, ErrNaN},
		{"no positive", []float64{1, 2}, []bool{false, false}, ErrOneClass},
		{"no negative", []float64{1, 2}, []bool{true, true}, ErrOneClass},
	}
	for _, c := range cases {
		_, err1 := ROC(c.scores, c.labels)
		_, err2 := AUC(c.scores, c.labels)
		_, err3 := AveragePrecision(c.scores, c.labels)
		_, _, err4 := BestF1(c.scores, c.labels)
		_, _, err5 := EER(c.scores, c.labels)
		_, err6 := Evaluate(c.scores, c.labels, 0.5)
		for i, err := range []error{err1, err2, err3, err4, err5, err6} {
			if !errors.Is(err, c.want) {
				t.Errorf("%s: function %d returned %v, want %v", c.name, i, err, c.want)
			}
		}
	}
	// Infinite scores are ordered like any other.
	if auc, err := AUC([]float64{math.Inf(1), math.Inf(-1)}, []bool{true, false}); err != nil || auc != 1 {
		t.Errorf("AUC with infinities = %v, %v", auc, err)
	}
	if _, err := Evaluate([]float64{1, 2}, []bool{true, false}, math.NaN()); err == nil {
		t.Error("Evaluate accepted a NaN threshold")
	}
}

func TestConfusion(t *testing.T) {
	scores := []float64{0.1, 0.4, 0.35, 0.8, 0.5}
	labels := BoolLabels([]float64{0, 0, 1, 1, 0})
	c := At(scores, labels, 0.4) // flagged: 0.4 (n), 0.8 (a), 0.5 (n)
	if c != (Confusion{TP: 1, FP: 2, TN: 1, FN: 1}) {
		t.Fatalf("At = %+v", c)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"precision", c.Precision(), 1.0 / 3},
		{"recall", c.Recall(), 0.5},
		{"tpr", c.TPR(), 0.5},
		{"fpr", c.FPR(), 2.0 / 3},
		{"f1", c.F1(), 2.0 / 5},
		{"accuracy", c.Accuracy(), 2.0 / 5},
	}
	for _, k := range checks {
		if !near(k.got, k.want, tol) {
			t.Errorf("%s = %v, want %v", k.name, k.got, k.want)
		}
	}
	var zero Confusion
	for _, v := range []float64{zero.Precision(), zero.Recall(), zero.FPR(), zero.F1(), zero.Accuracy()} {
		if v != 0 {
			t.Errorf("empty confusion gives %v, want 0", v)
		}
	}
	if c := At([]float64{math.NaN()}, []bool{true}, 0); c.FN != 1 {
		t.Errorf("NaN score: %+v, want a false negative", c)
	}
	defer func() {
		if recover() == nil {
			t.Error("At with mismatched lengths did not panic")
		}
	}()
	At([]float64{1}, nil, 0)
}

func TestEvaluate(t *testing.T) {
	scores := []float64{0.1, 0.4, 0.35, 0.8}
	labels := BoolLabels([]int{0, 0, 1, 1})
	r, err := Evaluate(scores, labels, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{AUC: 0.75, AP: 5.0 / 6, BestF1: 0.8, BestF1Threshold: 0.35,
		F1AtThreshold: 0.8, Threshold: 0.2, EER: 0.5, Positives: 2, Negatives: 2}
	if !near(r.AP, want.AP, tol) || !near(r.BestF1, want.BestF1, tol) || !near(r.F1AtThreshold, want.F1AtThreshold, tol) {
		t.Errorf("Evaluate = %+v, want %+v", r, want)
	}
	r.AP, r.BestF1, r.F1AtThreshold = want.AP, want.BestF1, want.F1AtThreshold
	if r != want {
		t.Errorf("Evaluate = %+v, want %+v", r, want)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"auc"`, `"ap"`, `"best_f1"`, `"best_f1_threshold"`, `"f1_at_threshold"`, `"threshold"`, `"eer"`, `"positives"`, `"negatives"`} {
		if !strings.Contains(string(b), key+":") {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

func TestHistogram(t *testing.T) {
	h := NewHistogram([]float64{0, 0.1, 0.25, 0.5, 0.99, 1, -0.1, 1.5, math.NaN()}, 0, 1, 4)
	if want := []int{2, 1, 1, 2}; !slices.Equal(h.Counts, want) || h.Below != 1 || h.Above != 1 || h.Total() != 6 {
		t.Errorf("histogram = %+v, want counts %v below 1 above 1", h, want)
	}
	if e := h.Edges(); len(e) != 5 || e[0] != 0 || e[2] != 0.5 || e[4] != 1 {
		t.Errorf("edges = %v", e)
	}
	h = NewHistogram([]float64{3, 3, 3}, 3, 3, 2)
	if h.Min != 2.5 || h.Max != 3.5 || !slices.Equal(h.Counts, []int{0, 3}) {
		t.Errorf("degenerate range: %+v", h)
	}
	b, _ := json.Marshal(h)
	if !strings.Contains(string(b), `"counts":[0,3]`) {
		t.Errorf("JSON %s", b)
	}
	for _, bad := range []func(){
		func() { NewHistogram(nil, 0, 1, 0) },
		func() { NewHistogram(nil, 1, 0, 3) },
		func() { NewHistogram(nil, 0, math.Inf(1), 3) },
		func() { NewHistogram(nil, math.NaN(), 1, 3) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("bad histogram arguments did not panic")
				}
			}()
			bad()
		}()
	}
}

func benchmarkAUC(b *testing.B, n int) {
	rng := rand.New(rand.NewPCG(5, 6))
	scores, labels := randomCase(rng, n, 0)
	b.ResetTimer()
	for b.Loop() {
		if _, err := AUC(scores, labels); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAUCSmall(b *testing.B) { benchmarkAUC(b, 1000) }
func BenchmarkAUCTest(b *testing.B)  { benchmarkAUC(b, 19523) } // MNIST digit-0 test set
func BenchmarkAUCLarge(b *testing.B) { benchmarkAUC(b, 200000) }
