package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

func newEvalCmd() *cobra.Command {
	var (
		dataset, dir  string
		class         int
		dataSeed      int64
		maxTest       int
		batch         int
		sweep, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "eval [flags] WEIGHTS...",
		Short: "Test report of weights files on their data set's test split (--sweep: per-class table)",
		Long: `Score the test split of a data set with each weights file (batch norm in eval mode, as
the pure-Go model and the browser score) and print ROC AUC, average precision, F1 at
the best threshold and at the file's calibrated threshold, and the equal error rate.

The data set, anomaly class and data seed default to the file's provenance, and the
data seed and test limit to its model card (the .json beside it) when there is one,
so that the test split is the one the model was trained beside. Evaluating on another
split (another --data-seed) can put training images in the test set.

--sweep prints one table row per file: give it the files of a per-class training,
e.g. ganomaly eval --sweep runs/mnist-*-20261124-*.safetensors`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			fl := cmd.Flags()
			if batch < 1 || batch > train.MaxBatchSize {
				return fmt.Errorf("--batch-size %d: use 1 to %d", batch, train.MaxBatchSize)
			}
			if len(files) > 1 && fl.Changed("class") {
				return errors.New("--class applies to one file; with several, each is evaluated on the class in its provenance")
			}
			out := cmd.OutOrStdout()
			var rows []sweepRow
			for _, path := range files {
				f, err := model.ReadWeightsFile(path)
				if err != nil {
					return err
				}
				do, err := evalData(path, f, fl.Changed, dataset, dir, class, dataSeed, maxTest)
				if err != nil {
					return err
				}
				ev, err := train.Evaluate(cmd.Context(), f, train.EvalOptions{Data: do, BatchSize: batch})
				if err != nil {
					return fmt.Errorf("%s: %w", path, err)
				}
				row := sweepRow{Class: ev.AnomalyClass, Report: ev.Report, Calibrated: f.Calibration.Calibrated(), File: path}
				if f.Provenance.Protocol == train.Paper {
					row.Label = train.PaperLabel
				}
				rows = append(rows, row)
				if asJSON {
					_ = json.NewEncoder(out).Encode(map[string]any{"kind": "eval", "weights": path, "dataset": ev.Dataset,
						"anomaly_class": ev.AnomalyClass, "data_seed": do.Seed, "max_test": do.MaxTest, "report": ev.Report, "label": row.Label})
				} else if !sweep {
					printEval(out, path, f, do, ev)
				}
			}
			if sweep && !asJSON {
				printTable(out, rows, "eval-mode batch norm, raw scores, F1@thr at each file's calibrated threshold")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&dataset, "dataset", "", "data set (default: the file's provenance)")
	fl.StringVar(&dir, "data-dir", "", "folder of the data (required for folder data sets)")
	fl.IntVar(&class, "class", 0, "anomaly class (default: the file's provenance)")
	fl.Int64Var(&dataSeed, "data-seed", 0, "seed of the data split (default: the model card's, else the provenance seed)")
	fl.IntVar(&maxTest, "max-test", 0, "use at most this many test images (default: the model card's limit; 0: all)")
	fl.IntVar(&batch, "batch-size", 256, "images per forward pass (does not change the scores)")
	fl.BoolVar(&sweep, "sweep", false, "print one table row per file instead of a report per file")
	fl.BoolVar(&asJSON, "json", false, "print one JSON object per file")
	return cmd
}

// evalData chooses the data a weights file is evaluated on: flags first, then the
// test split it was trained beside (its model card, then its provenance).
func evalData(path string, f *model.WeightsFile, changed func(string) bool, dataset, dir string, class int, dataSeed int64, maxTest int) (data.Options, error) {
	var card struct {
		Training *train.CardTraining `json:"training"`
	}
	if b, err := os.ReadFile(train.CardPath(path)); err == nil {
		_ = json.Unmarshal(b, &card) // a card that does not parse gives no training section
	}
	o, err := train.TestSplitOf(f, card.Training, dir)
	if err != nil && !changed("dataset") && !changed("class") {
		return o, fmt.Errorf("%s: %w (give --dataset and --class, or --data-dir for a folder)", path, err)
	}
	if changed("dataset") {
		o.Dataset = dataset
	}
	if changed("data-seed") {
		o.Seed = dataSeed
	}
	if changed("max-test") {
		o.MaxTest = maxTest
	}
	if changed("class") {
		o.AnomalyClass = class
	}
	if o.Dataset == "" {
		return o, fmt.Errorf("%s: its provenance names no data set: give --dataset", path)
	}
	if o.Dataset == data.Folder && o.Dir == "" {
		return o, fmt.Errorf("%s: trained on a folder (%s): give its root with --data-dir", path, f.Provenance.Dataset)
	}
	return o, nil
}

func printEval(w io.Writer, path string, f *model.WeightsFile, o data.Options, ev *train.Evaluation) {
	r := ev.Report
	fmt.Fprintf(w, "%s\n  %s, anomaly class %s, data seed %d: %d normal, %d anomalous test images\n", path, ev.Dataset, ev.AnomalyClass, o.Seed, r.Negatives, r.Positives)
	if f.Provenance.Protocol == train.Paper {
		fmt.Fprintf(w, "  [%s]\n", train.PaperLabel)
	}
	fmt.Fprintf(w, "  ROC AUC %.4f   AP %.4f   EER %.4f\n", r.AUC, r.AP, r.EER)
	fmt.Fprintf(w, "  F1 %.4f at the best threshold %.4g (chosen on the test set: optimistic)\n", r.BestF1, r.BestF1Threshold)
	if !f.Calibration.Calibrated() {
		fmt.Fprintln(w, "  no calibrated threshold: this model is uncalibrated (ganomaly import --calibrate gives it one)")
		return
	}
	fmt.Fprintf(w, "  F1 %.4f at the calibrated threshold %.4g (%s)\n", r.F1AtThreshold, r.Threshold, f.Calibration.Method)
}
