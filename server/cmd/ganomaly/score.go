package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

// maxImageBytes bounds the files score reads; imageio refuses larger ones anyway.
const maxImageBytes = 64 << 20

func newScoreCmd() *cobra.Command {
	var (
		weightsPath string
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "score [flags] IMAGE...",
		Short: "Score images with the pure-Go model (no libtorch work): score in [0,1], raw score, verdict",
		Long: `Score each image (PNG, JPEG, GIF or WebP) with a weights file, in pure Go: the same code
the browser runs, batch norm in eval mode, each image on its own. For each file it
prints the calibrated score in [0, 1], the raw anomaly score and the verdict
(anomalous when the raw score reaches the file's calibrated threshold). A model
without calibration (an official checkpoint imported without --calibrate) has no
threshold: it gets the raw score and "no threshold (uncalibrated)", no verdict.

A file that cannot be read or decoded gets an error line; the others are still
scored, and the exit status is 1 at the end.

--weights defaults to the embedded default model.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			det, name, err := loadDetector(weightsPath)
			if err != nil {
				return err
			}
			return scoreFiles(cmd.OutOrStdout(), cmd.ErrOrStderr(), det, name, files, asJSON)
		},
	}
	cmd.Flags().StringVarP(&weightsPath, "weights", "w", "", "weights file (default: the embedded default model)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per image")
	return cmd
}

func loadDetector(path string) (*model.Detector, string, error) {
	if path == "" {
		b, _ := weights.Default()
		det, err := model.LoadDetector(b)
		if err != nil {
			return nil, "", fmt.Errorf("the embedded default model: %w (give --weights)", err)
		}
		return det, "embedded default model", nil
	}
	f, err := model.ReadWeightsFile(path)
	if err != nil {
		return nil, "", err
	}
	det, err := model.NewDetector(f)
	return det, path, err
}

type scoreLine struct {
	File string `json:"file"`
	// Score is null for an uncalibrated model, which has no [0, 1] scale.
	Score      *float64 `json:"score"`
	Raw        float64  `json:"raw"`
	Anomalous  bool     `json:"anomalous"`
	Calibrated bool     `json:"calibrated"`
	Verdict    string   `json:"verdict"`
	Error      string   `json:"error,omitempty"`
}

// verdictUncalibrated is what score says instead of a verdict for a model without
// calibration (an imported official checkpoint, say).
const verdictUncalibrated = "no threshold (uncalibrated)"

func scoreFiles(stdout, stderr io.Writer, det *model.Detector, name string, files []string, asJSON bool) error {
	cfg := det.Config()
	enc := json.NewEncoder(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	cal := det.File.Calibration
	if !asJSON {
		if cal.Calibrated() {
			fmt.Fprintf(tw, "# %s: %d×%d, %d channel(s); threshold %.4g raw (%.3f on the [0,1] scale)\n",
				name, cfg.ImageSize, cfg.ImageSize, cfg.Channels, cal.Threshold, cal.NormalizedThreshold())
		} else {
			fmt.Fprintf(tw, "# %s: %d×%d, %d channel(s); UNCALIBRATED: no threshold, raw scores only (higher is more anomalous); calibrate it with ganomaly import --calibrate or --calibrate-dir\n",
				name, cfg.ImageSize, cfg.ImageSize, cfg.Channels)
		}
		fmt.Fprintln(tw, "file\tscore\traw\tverdict")
	}
	failed := 0
	var results []model.Result
	for _, path := range files {
		line := scoreLine{File: path}
		x, err := readImage(path, cfg)
		if err == nil {
			results, err = det.Score(results[:0], x, 1)
		}
		if err == nil {
			r := results[0]
			line.Raw, line.Anomalous, line.Calibrated = r.Raw, r.Anomalous, r.Calibrated
			switch {
			case !r.Calibrated:
				line.Verdict = verdictUncalibrated
			case r.Anomalous:
				line.Score, line.Verdict = &r.Score, "ANOMALOUS"
			default:
				line.Score, line.Verdict = &r.Score, "normal"
			}
		} else {
			failed++
			line.Error = err.Error()
		}
		switch {
		case asJSON:
			_ = enc.Encode(line)
		case line.Error != "":
			fmt.Fprintf(tw, "%s\t-\t-\terror: %s\n", path, line.Error)
		case line.Score == nil:
			fmt.Fprintf(tw, "%s\t-\t%.6g\t%s\n", path, line.Raw, line.Verdict)
		default:
			fmt.Fprintf(tw, "%s\t%.4f\t%.6g\t%s\n", path, *line.Score, line.Raw, line.Verdict)
		}
	}
	_ = tw.Flush()
	if failed > 0 {
		fmt.Fprintf(stderr, "ganomaly: %d of %d files could not be scored\n", failed, len(files))
		return quietError{fmt.Errorf("%d of %d files could not be scored", failed, len(files))}
	}
	return nil
}

func readImage(path string, cfg model.Config) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxImageBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxImageBytes {
		return nil, fmt.Errorf("larger than %d MB", maxImageBytes>>20)
	}
	return imageio.Load(b, cfg.ImageSize, cfg.Channels)
}
