package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ganomaly-go/ganomaly-go/model/train"
)

// reporter prints training progress: a progress bar and plain lines on a terminal, one
// JSON object per line otherwise.
type reporter struct {
	w         io.Writer
	json      bool
	enc       *json.Encoder
	bar       *progressbar.ProgressBar
	startIter int
}

func newReporter(w io.Writer, forceJSON bool) *reporter {
	r := &reporter{w: w, json: forceJSON || !isTerminalWriter(w)}
	r.enc = json.NewEncoder(w)
	return r
}

func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (r *reporter) event(e train.Event) {
	if r.json {
		_ = r.enc.Encode(e)
		return
	}
	switch e.Kind {
	case train.EventStart:
		fmt.Fprintf(r.w, "%s\n", e.Message)
		if e.Label != "" {
			fmt.Fprintf(r.w, "[%s]\n", e.Label)
		}
		r.startIter = e.Iteration
		r.bar = progressbar.NewOptions(max(1, e.Iterations-e.Iteration),
			progressbar.OptionSetWriter(r.w),
			progressbar.OptionSetDescription(fmt.Sprintf("epoch %d/%d", e.Epoch+1, e.Epochs)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowDescriptionAtLineEnd(),
		)
	case train.EventStep:
		if r.bar == nil {
			return
		}
		l := e.Losses
		r.bar.Describe(fmt.Sprintf("epoch %d/%d  G %.3f (adv %.3g con %.3f enc %.3g)  D %.3f  %.0f img/s",
			e.Epoch, e.Epochs, l.G, l.Adv, l.Con, l.Enc, l.D, e.ImagesPerSecond))
		_ = r.bar.Set(e.Iteration - r.startIter)
	case train.EventEpoch:
		r.clearBar()
		line := fmt.Sprintf("epoch %d/%d (step %d/%d): ", e.Epoch, e.Epochs, e.Iteration, e.Iterations)
		f := e.Figures
		if e.Protocol == train.Paper {
			line += fmt.Sprintf("test AUC %.4f [%s]", f.TestAUC, e.Label)
		} else {
			line += fmt.Sprintf("validation L1 %.4f, mean validation score %.4g", f.ValLoss, f.ValScore)
		}
		if f.Best {
			line += "  (best so far)"
		}
		fmt.Fprintln(r.w, line)
	case train.EventDone:
		r.clearBar()
		fmt.Fprintln(r.w, e.Message)
	case train.EventError:
		r.clearBar()
	}
}

func (r *reporter) clearBar() {
	if r.bar != nil {
		_ = r.bar.Clear()
	}
}

// finish ends the progress bar of a run.
func (r *reporter) finish() {
	if r.bar != nil {
		_ = r.bar.Clear()
		r.bar = nil
	}
}

func (r *reporter) result(res *train.Result, weights, card string) {
	if r.json {
		_ = r.enc.Encode(map[string]any{
			"kind": "result", "weights": weights, "card": card, "protocol": res.Protocol, "label": res.Label,
			"anomaly_class": res.Weights.Provenance.AnomalyClass, "best_epoch": res.BestEpoch, "epochs": res.Epochs,
			"tested": res.Tested, "test": res.Test, "exported_test": res.Exported, "calibration": res.Weights.Calibration,
		})
		return
	}
	if !res.Tested {
		cal := res.Weights.Calibration
		fmt.Fprintf(r.w, "\nno known anomalies (test/1.abnormal), so no test: kept epoch %d of %d, calibrated on %d validation normals, threshold %.4g (flags about %.0f%% of normal images)\n",
			res.BestEpoch, res.Epochs, res.ValidationImages, cal.Threshold, 100*(1-res.Options.CalibrationQuantile))
		fmt.Fprintf(r.w, "wrote %s\n      %s\n", weights, card)
		for _, w := range res.Warnings {
			fmt.Fprintf(r.w, "warning: %s\n", w)
		}
		return
	}
	t := res.Test
	fmt.Fprintf(r.w, "\ntest set (%d normal, %d anomalous), class %s, kept epoch %d of %d:\n", t.Negatives, t.Positives,
		res.Weights.Provenance.AnomalyClass, res.BestEpoch, res.Epochs)
	if res.Label != "" {
		fmt.Fprintf(r.w, "  [%s: the figures below come from the epoch with the best test AUC]\n", res.Label)
	}
	fmt.Fprintf(r.w, "  ROC AUC %.4f   AP %.4f   EER %.4f\n", t.AUC, t.AP, t.EER)
	fmt.Fprintf(r.w, "  F1 %.4f at the best threshold %.4g (chosen on the test set: optimistic)\n", t.BestF1, t.BestF1Threshold)
	if res.Protocol == train.Paper {
		fmt.Fprintf(r.w, "  F1 %.4f at the official threshold %.2f on min-max scaled scores\n", t.F1AtThreshold, t.Threshold)
		if e := res.Exported; e != nil {
			fmt.Fprintf(r.w, "  exported model, eval-mode batch norm, one image at a time: AUC %.4f, F1 %.4f at its threshold\n", e.AUC, e.F1AtThreshold)
		}
	} else {
		fmt.Fprintf(r.w, "  F1 %.4f at the threshold %.4g calibrated on validation normals (q %.2f)\n", t.F1AtThreshold, t.Threshold, res.Options.CalibrationQuantile)
	}
	fmt.Fprintf(r.w, "wrote %s\n      %s\n", weights, card)
	for _, w := range res.Warnings {
		fmt.Fprintf(r.w, "warning: %s\n", w)
	}
}

// sweep prints a per-class table.
func (r *reporter) sweep(rows []sweepRow, settings string) {
	if r.json {
		_ = r.enc.Encode(map[string]any{"kind": "sweep", "settings": settings, "rows": rows})
		return
	}
	fmt.Fprintln(r.w)
	printTable(r.w, rows, settings)
}

func printTable(w io.Writer, rows []sweepRow, settings string) {
	fmt.Fprintf(w, "per-class test metrics (%s)\n", settings)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tAUC\tAP\tbest F1\tF1@thr\tEER\tepoch\t")
	var sum [5]float64
	labels := map[string]bool{}
	for _, row := range rows {
		t := row.Report
		epoch := "-"
		if row.Epochs > 0 {
			epoch = fmt.Sprintf("%d/%d", row.BestEpoch, row.Epochs)
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%s\t\n", row.Class, t.AUC, t.AP, t.BestF1, t.F1AtThreshold, t.EER, epoch)
		for i, v := range []float64{t.AUC, t.AP, t.BestF1, t.F1AtThreshold, t.EER} {
			sum[i] += v
		}
		if row.Label != "" {
			labels[row.Label] = true
		}
	}
	n := float64(len(rows))
	fmt.Fprintf(tw, "mean\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t\t\n", sum[0]/n, sum[1]/n, sum[2]/n, sum[3]/n, sum[4]/n)
	_ = tw.Flush()
	fmt.Fprintln(w, "F1@thr: at the calibrated threshold (honest) or 0.20 of min-max scaled scores (paper); best F1 picks its threshold on the test set.")
	for l := range labels {
		fmt.Fprintf(w, "[%s]\n", strings.TrimSpace(l))
	}
}
