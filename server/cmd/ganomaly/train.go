package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

type trainFlags struct {
	opts       train.Options
	score      string
	classes    string
	out        string
	outDir     string
	json       bool
	dataSeedOK bool
}

func newTrainCmd() *cobra.Command {
	f := &trainFlags{opts: train.DefaultOptions()}
	o := &f.opts
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model on normal images (libtorch or pure Go) and write its weights and model card",
		Long: `Train GANomaly on the normal images of a data set, with one class held out as the
anomaly, and write a weights file (default runs/<dataset>-<class>-<date>.safetensors)
and its model card (the same name with .json): the test report, the ROC curve and the
score histograms of normal and anomalous test images.

Protocols:
  honest  (default) batch norm in eval mode; the epoch with the lowest validation
          reconstruction error is kept; the score is calibrated on validation normals;
          the test set is scored once, at the end.
  paper   the official code: batch norm in train mode at test time, the epoch with the
          best TEST AUC is kept, scores min–max scaled over the test set, threshold
          0.20. Every output says "paper protocol: test-set model selection".

Progress: a progress bar with the losses and images/s on a terminal; JSON lines (one
event per line) when stdout is not a terminal or with --json.

--classes 0-9 trains one model per anomaly class and prints a table of their test
metrics (for a quick table: --epochs 1 --width 16 --max-train 6000).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.dataSeedOK = cmd.Flags().Changed("data-seed")
			if !cmd.Flags().Changed("validation-fraction") && o.Protocol == train.Paper {
				o.Data.ValidationFraction = 0 // the paper protocol's default: none
			}
			return runTrain(cmd.Context(), f, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&o.Data.Dataset, "dataset", o.Data.Dataset, `data set: "mnist", "fashion-mnist" or "folder" (root/train/0.normal, root/test/0.normal, root/test/1.abnormal)`)
	fl.StringVar(&o.Data.Dir, "data-dir", "", "folder of the data (required for folder; found automatically for mnist and fashion-mnist)")
	fl.IntVar(&o.Data.AnomalyClass, "class", o.Data.AnomalyClass, "anomaly class held out from training, 0-9 (mnist, fashion-mnist) (default 0)")
	fl.StringVar(&f.classes, "classes", "", `train one model per anomaly class, e.g. "0-9" or "0,2,5", and print a table`)
	fl.Int64Var(&o.Data.Seed, "data-seed", 0, "seed of the data split; negative keeps the original train/test files apart (default: --seed)")
	fl.Float64Var(&o.Data.ValidationFraction, "validation-fraction", 0.1, "share of train normals held out for validation (honest protocol; the paper protocol uses none unless set)")
	fl.IntVar(&o.Data.MaxTrain, "max-train", 0, "use at most this many train normals, validation included (0: all)")
	fl.IntVar(&o.Data.MaxTest, "max-test", 0, "use at most this many test images, keeping the share of anomalies (0: all)")
	fl.IntVar(&o.Config.ImageSize, "size", o.Config.ImageSize, "image side in pixels: 16, 32, 64, ... (official: 32)")
	fl.IntVar(&o.Config.Channels, "channels", o.Config.Channels, "1 (grey) or 3 (RGB)")
	fl.IntVar(&o.Config.Latent, "latent", o.Config.Latent, "latent size nz")
	fl.IntVar(&o.Config.Width, "width", o.Config.Width, "feature width ngf of the first layer (also used by the discriminator)")
	fl.IntVar(&o.Config.ExtraLayers, "extra-layers", o.Config.ExtraLayers, "extra 3×3 conv layers per network (default 0)")
	fl.IntVar(&o.Epochs, "epochs", o.Epochs, "passes over the train normals (official: 15)")
	fl.IntVar(&o.BatchSize, "batch-size", o.BatchSize, "images per step")
	fl.Float64Var(&o.LR, "lr", o.LR, "Adam learning rate for G and D")
	fl.Float64Var(&o.Beta1, "beta1", o.Beta1, "Adam beta1")
	fl.Float64Var(&o.Beta2, "beta2", o.Beta2, "Adam beta2")
	fl.Float64Var(&o.WAdv, "w-adv", o.WAdv, "weight of the adversarial (feature matching) loss")
	fl.Float64Var(&o.WCon, "w-con", o.WCon, "weight of the contextual (L1 reconstruction) loss")
	fl.Float64Var(&o.WEnc, "w-enc", o.WEnc, "weight of the encoder (latent L2) loss")
	fl.StringVar(&o.Protocol, "protocol", o.Protocol, `"honest" or "paper" (see above)`)
	fl.StringVar(&f.score, "score", string(o.Score), `anomaly score: "mse" (official: mean of (z−ẑ)²) or "l1" (paper: Σ|z−ẑ|)`)
	fl.Float64Var(&o.CalibrationQuantile, "calibration-quantile", o.CalibrationQuantile, "threshold at this quantile of validation normals' scores (honest protocol)")
	fl.StringVar(&o.Engine, "engine", o.Engine, `what trains: "libtorch" (CPU or CUDA) or "go" (pure Go, the browser's trainer; CPU, every core); default: libtorch when this build has it`)
	fl.StringVar(&o.Device, "device", o.Device, "auto, cpu, cuda or cuda:N (the go engine: auto or cpu)")
	fl.Int64Var(&o.Seed, "seed", o.Seed, "seed of the initialisation and batch order (default 0)")
	fl.StringVar(&o.CheckpointDir, "checkpoint-dir", "", "write checkpoint.safetensors here after every epoch (a subfolder per class with --classes)")
	fl.BoolVar(&o.Resume, "resume", false, "continue from the checkpoint in --checkpoint-dir after its last finished epoch")
	fl.IntVar(&o.MaxIterations, "max-iterations", 0, "stop after this many steps in all (0: no cap)")
	fl.IntVar(&o.LogEvery, "log-every", o.LogEvery, "steps between progress events")
	fl.StringVarP(&f.out, "out", "o", "", "weights file to write (default runs/<dataset>-<class>-<date>.safetensors)")
	fl.StringVar(&f.outDir, "out-dir", "runs", "folder of the default weights file names")
	fl.BoolVar(&f.json, "json", false, "print JSON lines even on a terminal")
	return cmd
}

func runTrain(ctx context.Context, f *trainFlags, stdout io.Writer) error {
	o := f.opts
	o.Score = model.ScoreKind(f.score)
	if !f.dataSeedOK {
		o.Data.Seed = o.Seed
	}
	classes := []int{o.Data.AnomalyClass}
	if f.classes != "" {
		var err error
		if classes, err = parseClasses(f.classes); err != nil {
			return err
		}
		if o.Data.Dataset == data.Folder {
			return errors.New("--classes needs an idx data set (mnist, fashion-mnist): a folder names its anomalies by layout")
		}
		if f.out != "" && len(classes) > 1 {
			return errors.New("--out names one file; with several --classes the files are named by class in --out-dir")
		}
	}
	// Refuse absurd values before any work, for every class of a sweep.
	for _, k := range classes {
		ok := o
		ok.Data.AnomalyClass = k
		if err := ok.Validate(); err != nil {
			return err
		}
	}
	out := newReporter(stdout, f.json)
	stamp := time.Now().Format("20060102-150405")
	var rows []sweepRow
	for _, k := range classes {
		run := o
		run.Data.AnomalyClass = k
		if len(classes) > 1 && run.CheckpointDir != "" {
			run.CheckpointDir = filepath.Join(run.CheckpointDir, fmt.Sprintf("class-%d", k))
		}
		path := f.out
		if path == "" {
			path = filepath.Join(f.outDir, fmt.Sprintf("%s-%s-%s.safetensors", datasetSlug(run.Data), classSlug(run.Data), stamp))
		}
		res, err := train.Run(ctx, run, out.event)
		out.finish()
		if err != nil {
			if len(classes) > 1 {
				return fmt.Errorf("class %d: %w", k, err)
			}
			return err
		}
		cardPath, err := train.Save(res, path)
		if err != nil {
			return err
		}
		out.result(res, path, cardPath)
		rows = append(rows, sweepRow{Class: res.Weights.Provenance.AnomalyClass, Report: res.Test, BestEpoch: res.BestEpoch, Epochs: res.Epochs,
			Calibrated: res.Protocol == train.Honest, Label: res.Label, File: path})
	}
	if len(classes) > 1 {
		out.sweep(rows, fmt.Sprintf("%s, %s protocol, %d epochs, width %d, batch %d, seed %d, max train %d, max test %d",
			o.Data.Dataset, o.Protocol, o.Epochs, o.Config.Width, o.BatchSize, o.Seed, o.Data.MaxTrain, o.Data.MaxTest))
	}
	return nil
}

// parseClasses reads "0-9", "0,2,5" or "1,3-5".
func parseClasses(s string) ([]int, error) {
	var out []int
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a > b || a < 0 || b > 9 {
			return nil, fmt.Errorf("--classes %q: want classes 0-9 as a list and ranges, e.g. 0-9 or 0,2,5", s)
		}
		for k := a; k <= b; k++ {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out, nil
}

func datasetSlug(d data.Options) string {
	if d.Dataset == data.Folder {
		return "folder-" + slug(filepath.Base(filepath.Clean(d.Dir)))
	}
	return d.Dataset
}

func classSlug(d data.Options) string {
	if d.Dataset == data.Folder {
		return "abnormal"
	}
	return strconv.Itoa(d.AnomalyClass)
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	return b.String()
}

// sweepRow is one line of a per-class table.
type sweepRow struct {
	Class      string         `json:"class"`
	Report     metrics.Report `json:"report"`
	BestEpoch  int            `json:"best_epoch,omitempty"`
	Epochs     int            `json:"epochs,omitempty"`
	Calibrated bool           `json:"calibrated"` // F1AtThreshold is at a validation-calibrated threshold
	Label      string         `json:"label,omitempty"`
	File       string         `json:"file"`
}
