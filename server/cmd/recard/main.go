// Command recard rewrites a model card's test figures (report, ROC, histograms) and
// its latent map from the weights file alone, scoring the model's test split with the
// pure-Go model: a card written before the latent map existed gets one without
// retraining. The test split is rebuilt from the card's data seed and limits and the
// provenance's data set and anomaly class, as `ganomaly eval` does.
//
//	go run ./server/cmd/recard -weights weights/default.safetensors
//
// Paper-protocol cards keep their test figures (the official test pass, train-mode
// batch norm, is not what the pure-Go model computes); only the map is added.
package main

import (
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
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
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
	b, err := os.ReadFile(weightsPath)
	if err != nil {
		return err
	}
	det, err := model.LoadDetector(b)
	if err != nil {
		return fmt.Errorf("%s: %w", weightsPath, err)
	}
	cb, err := os.ReadFile(cardPath)
	if err != nil {
		return fmt.Errorf("%w (recard completes an existing card; train the model to get one)", err)
	}
	c, err := card.Parse(cb)
	if err != nil {
		return fmt.Errorf("%s: %w", cardPath, err)
	}
	o, err := testSplitOptions(det.File, c, dataDir)
	if err != nil {
		return err
	}
	start := time.Now()
	split, err := data.Load(o)
	if err != nil {
		return err
	}
	scores, z := score(det, split.Test)
	labels := split.Test.Labels
	fmt.Printf("scored %d test images in %v\n", len(scores), time.Since(start).Round(time.Millisecond))
	if c.Protocol != "paper" {
		rep, err := metrics.Evaluate(scores, labels, det.File.Calibration.Threshold)
		if err != nil {
			return err
		}
		fmt.Printf("test AUC %.6f (card said %.6f), F1 at threshold %.4f (card said %.4f)\n", rep.AUC, c.Test.AUC, rep.F1AtThreshold, c.Test.F1AtThreshold)
		c.Test, c.ScoreScale = rep, card.ScaleRaw
		if err := c.SetTestFigures(scores, labels, det.File.Calibration.Threshold); err != nil {
			return err
		}
	}
	c.PCA = card.LatentMap(z, labels, det.Config().Latent, fmt.Sprintf(
		"latent codes z = G_E(x) of the %d test images (normal and anomalous), eval-mode batch norm, pure-Go model (server/cmd/recard)", len(labels)))
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

// testSplitOptions rebuilds the data options of the model's test split.
func testSplitOptions(f *model.WeightsFile, c *card.Card, dir string) (data.Options, error) {
	p := f.Provenance
	o := data.Options{Dataset: p.Dataset, Dir: dir, Seed: c.Training.DataSeed, MaxTest: c.Training.MaxTest,
		Size: f.Config.ImageSize, Channels: f.Config.Channels}
	if o.Dataset != data.MNIST && o.Dataset != data.FashionMNIST {
		return o, fmt.Errorf("data set %q: recard rebuilds MNIST and Fashion-MNIST test splits only", p.Dataset)
	}
	for k := range 10 {
		if data.ClassName(o.Dataset, k) == p.AnomalyClass {
			o.AnomalyClass = k
			return o, nil
		}
	}
	return o, fmt.Errorf("anomaly class %q is not a class of %s", p.AnomalyClass, o.Dataset)
}

// score runs the test set through the model in batches and keeps each image's raw
// score and z.
func score(det *model.Detector, set *data.Set) ([]float64, []float32) {
	const batch = 64
	nz := det.Config().Latent
	kind := det.File.Calibration.Score
	scores := make([]float64, 0, set.N)
	zs := make([]float32, 0, set.N*nz)
	var buf []float32
	indices := make([]int, 0, batch)
	for start := 0; start < set.N; start += batch {
		n := min(batch, set.N-start)
		indices = indices[:0]
		for i := range n {
			indices = append(indices, start+i)
		}
		buf = set.Batch(buf, indices)
		z, _, zhat := det.Generator().Forward(buf, n)
		for i := range n {
			scores = append(scores, model.AnomalyScore(z[i*nz:(i+1)*nz], zhat[i*nz:(i+1)*nz], kind))
		}
		zs = append(zs, z[:n*nz]...)
	}
	return scores, zs
}
