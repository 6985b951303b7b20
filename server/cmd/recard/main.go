// Command recard rewrites a model card's test figures (report, ROC, histograms) and
// its latent map from the weights file alone, scoring the model's test split with the
// pure-Go model: a card written before the latent map existed gets one without
// retraining. The test split is rebuilt from the card's data seed and limits and the
// provenance's data set and anomaly class, with `ganomaly eval`'s evaluation (model/train.Evaluate and TestSplitOf).
//
//	go run ./server/cmd/recard -weights weights/default.safetensors
//
// Paper-protocol cards keep their test figures (the official test pass, train-mode
// batch norm, is not what the pure-Go model computes); only the map is added.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/atomicfile"
	"github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

func main() {
	weightsPath := flag.String("weights", "weights/default.safetensors", "the model's weights file")
	cardPath := flag.String("card", "", "its model card (default: the weights path with .json), rewritten in place")
	out := flag.String("o", "", "write the card here instead of in place")
	dataDir := flag.String("data-dir", "", "the data set's folder (default: the data set's usual place)")
	flag.Parse()
	if *cardPath == "" {
		*cardPath = strings.TrimSuffix(*weightsPath, filepath.Ext(*weightsPath)) + ".json"
	}
	if *out == "" {
		*out = *cardPath
	}
	if err := run(*weightsPath, *cardPath, *out, *dataDir); err != nil {
		fmt.Fprintln(os.Stderr, "recard:", err)
		os.Exit(1)
	}
}

func run(weightsPath, cardPath, out, dataDir string) error {
	f, err := model.ReadWeightsFile(weightsPath)
	if err != nil {
		return err
	}
	cb, err := os.ReadFile(cardPath)
	if err != nil {
		return fmt.Errorf("%w (recard completes an existing card; train the model to get one)", err)
	}
	c, err := card.Parse(cb)
	if err != nil {
		return fmt.Errorf("%s: %w", cardPath, err)
	}
	o, err := train.TestSplitOf(f, &c.Training, dataDir)
	if err != nil {
		return fmt.Errorf("%s: %w", weightsPath, err)
	}
	start := time.Now()
	// The same evaluation as `ganomaly eval`: eval-mode batch norm, raw scores.
	ev, err := train.Evaluate(context.Background(), f, train.EvalOptions{Data: o, BatchSize: 64})
	if err != nil {
		return fmt.Errorf("%s: %w", weightsPath, err)
	}
	fmt.Printf("scored %d test images in %v\n", len(ev.Scores), time.Since(start).Round(time.Millisecond))
	if c.Protocol != train.Paper {
		rep := ev.Report
		fmt.Printf("test AUC %.6f (card said %.6f), F1 at threshold %.4f (card said %.4f)\n", rep.AUC, c.Test.AUC, rep.F1AtThreshold, c.Test.F1AtThreshold)
		c.Test, c.ScoreScale = rep, card.ScaleRaw
		if err := c.SetTestFigures(ev.Scores, ev.Labels, f.Calibration.Threshold); err != nil {
			return err
		}
	}
	c.PCA = card.LatentMap(ev.Z, ev.Labels, f.Config.Latent, fmt.Sprintf(
		"latent codes z = G_E(x) of the %d test images (normal and anomalous), eval-mode batch norm, pure-Go model (server/cmd/recard)", len(ev.Labels)))
	if c.PCA == nil {
		return errors.New("too few test images for a latent map")
	}
	fmt.Printf("latent map: %d points, the plane holds %.1f%% of the variance\n", len(c.PCA.Points), 100*(c.PCA.Variance[0]+c.PCA.Variance[1])/c.PCA.TotalVariance)
	nb, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(out, append(nb, '\n'))
}
