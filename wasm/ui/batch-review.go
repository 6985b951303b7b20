package ui

import (
	"math"
	"strconv"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
)

// Labels read from file names, so that a batch whose files say what they are gets a
// confusion matrix and its own ROC curve.
const (
	labelUnknown = iota
	labelNormal
	labelAnomalous
)

// nameLabel reads a file name (with its folders, when the browser gives them) for a
// label: a word (normal, good, ok; anomalous, abnormal, anomaly, defect, bad) or, for
// a model that holds out a class, the class (label2, class_7, digit3, mnist-2-1.png),
// anomalous when it is the held-out one. (No regexp: it would cost app.wasm its
// size budget.)
func nameLabel(name, anomalyClass string) int {
	n := strings.ToLower(name)
	words := strings.FieldsFunc(n, func(r rune) bool { return r < 'a' || r > 'z' })
	label := labelUnknown
	for _, w := range words {
		switch {
		case strings.HasPrefix(w, "anomal") || w == "abnormal" || strings.HasPrefix(w, "defect") || w == "bad":
			return labelAnomalous
		case w == "normal" || w == "good" || w == "ok":
			label = labelNormal
		}
	}
	if label != labelUnknown || anomalyClass == "" {
		return label
	}
	if _, err := strconv.Atoi(anomalyClass); err != nil {
		return labelUnknown // a class name (Fashion-MNIST's "Sandal") is not in file names
	}
	for _, key := range []string{"label", "class", "digit", "mnist"} {
		for rest := n; ; {
			i := strings.Index(rest, key)
			if i < 0 {
				break
			}
			rest = rest[i+len(key):]
			d := strings.TrimLeft(rest, "-_ ")
			if len(d) > 0 && d[0] >= '0' && d[0] <= '9' && (len(d) == 1 || d[1] < '0' || d[1] > '9') {
				if d[:1] == anomalyClass {
					return labelAnomalous
				}
				return labelNormal
			}
		}
	}
	return labelUnknown
}

// review is a batch judged at one threshold: its verdicts and, where the file names
// carry labels, how those verdicts fare.
type review struct {
	// Threshold is on the [0, 1] score scale; Custom is set when it is the user's,
	// not the model's.
	Threshold float64
	Custom    bool
	// Scored items, those called anomalous, and those with a label from their name.
	Scored, Anomalous, Labelled int
	// The confusion matrix of the labelled items (anomalous is positive), with
	// precision and recall; AUC is the batch's own ROC AUC over raw scores, and ROC
	// its curve (both only with labels of both kinds).
	TP, FP, TN, FN    int
	Precision, Recall float64
	AUC               float64
	ROC               []card.ROCPoint
	// Histograms of the scores on [0, 1]: labelled normal and anomalous items, or,
	// without labels, every item as "normal".
	Histograms card.Histograms
	Labels     bool
}

// reviewBins is the number of bins of a batch's score histogram.
const reviewBins = 20

// reviewOf judges the scored, calibrated items at threshold (the model's when custom
// is false: then each item keeps the model's own verdict, exactly).
func reviewOf(items []item, threshold float64, custom bool, anomalyClass string) review {
	r := review{Threshold: threshold, Custom: custom}
	var raws []float64
	var labels []bool
	var normal, anomalous, all []float64
	for _, it := range items {
		if it.State != itemDone || it.Uncalibrated {
			continue
		}
		r.Scored++
		called := it.Anomalous
		if custom {
			called = it.Score >= threshold
		}
		if called {
			r.Anomalous++
		}
		all = append(all, it.Score)
		switch nameLabel(it.Name, anomalyClass) {
		case labelNormal:
			r.Labelled++
			normal = append(normal, it.Score)
			raws, labels = append(raws, it.Raw), append(labels, false)
			if called {
				r.FP++
			} else {
				r.TN++
			}
		case labelAnomalous:
			r.Labelled++
			anomalous = append(anomalous, it.Score)
			raws, labels = append(raws, it.Raw), append(labels, true)
			if called {
				r.TP++
			} else {
				r.FN++
			}
		}
	}
	r.Precision, r.Recall = ratio(r.TP, r.TP+r.FP), ratio(r.TP, r.TP+r.FN)
	r.AUC = math.NaN()
	if len(normal) > 0 && len(anomalous) > 0 {
		r.Labels = true
		if auc, err := metrics.AUC(raws, labels); err == nil {
			r.AUC = auc
		}
		if _, roc, err := card.Separate(raws, labels, 0, reviewBins, 64); err == nil {
			r.ROC = roc // over raw scores, as the AUC; the histograms below are on [0, 1]
		}
		r.Histograms = card.Histograms{Normal: metrics.NewHistogram(normal, 0, 1, reviewBins),
			Anomalous: metrics.NewHistogram(anomalous, 0, 1, reviewBins), Threshold: threshold}
	} else {
		r.Histograms = card.Histograms{Normal: metrics.NewHistogram(all, 0, 1, reviewBins),
			Anomalous: metrics.NewHistogram(nil, 0, 1, reviewBins), Threshold: threshold}
	}
	return r
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// judged returns the items with their verdicts and threshold at a custom threshold
// (the model's verdicts otherwise), for the cards and the CSV.
func judged(items []item, threshold float64, custom bool) []item {
	if !custom {
		return items
	}
	out := make([]item, len(items))
	for i, it := range items {
		if it.State == itemDone && !it.Uncalibrated {
			it.Anomalous, it.Threshold = it.Score >= threshold, threshold
		}
		out[i] = it
	}
	return out
}
