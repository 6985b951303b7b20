// Package metrics scores a one-class anomaly detector against labelled data: the ROC
// curve and its area, average precision, the confusion matrix at a threshold, the best F1
// threshold, the equal error rate and score histograms.
//
// Conventions: a score is a float64 where higher means more anomalous; a label is true
// for an anomalous (positive) image and false for a normal (negative) one ([BoolLabels]
// converts 0/1 labels). An image is predicted anomalous when its score is >= the
// threshold, so every threshold this package returns can be passed back to [At] and
// gives the rates it was reported with.
//
// The definitions follow scikit-learn's: [AUC] is roc_auc_score (ties count one half, so
// it equals the Mann–Whitney U statistic divided by P·N), [AveragePrecision] is
// average_precision_score (a step-wise sum, no interpolation), and [ROC] is roc_curve
// with drop_intermediate=False (one point per distinct score, so that a threshold slider
// can land on every one of them).
//
// Functions that return an error do so for input a user can get wrong: scores and labels
// of different lengths, no scores, a NaN score, or a class that is absent (a ROC needs
// both normal and anomalous images). Infinite scores are allowed.
//
// The package is pure Go with no cgo and no syscall/js; it builds for GOOS=js
// GOARCH=wasm, where the browser's teaching view draws ROC curves with it.
package metrics
