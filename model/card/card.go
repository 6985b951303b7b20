package card

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
	"github.com/ganomaly-go/ganomaly-go/model/pca"
)

// Format and FormatVersion identify a model card. New optional fields do not change
// the version: readers of version 1 ignore what they do not know.
const (
	Format        = "ganomaly-go/model-card"
	FormatVersion = 1
)

// Score scales of a card's test figures (Card.ScoreScale).
const (
	// ScaleRaw: the raw anomaly score A(x), the scale of the calibration.
	ScaleRaw = "raw"
	// ScaleTestMinMax: min–max over the test set, as the official code (paper protocol).
	ScaleTestMinMax = "min-max over the test set"
)

// Card describes a trained model.
type Card struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	Title         string `json:"title"`
	Summary       string `json:"summary"`
	// Placeholder marks the untrained stand-in model of a fresh checkout.
	Placeholder bool `json:"placeholder,omitempty"`
	// Label is the paper-protocol label for a model whose test figures come from
	// test-set model selection and are optimistic.
	Label    string `json:"label,omitempty"`
	Protocol string `json:"protocol"`
	// Weights is the weights file's name, in the same directory.
	Weights      string            `json:"weights,omitempty"`
	Dataset      string            `json:"dataset"`
	AnomalyClass string            `json:"anomaly_class"`
	Config       model.Config      `json:"config"`
	Calibration  model.Calibration `json:"calibration"`
	Provenance   model.Provenance  `json:"provenance"`
	Training     Training          `json:"training"`
	// Test is the test report; ScoreScale says which scores it is over ([ScaleRaw] or
	// [ScaleTestMinMax]).
	Test       metrics.Report `json:"test"`
	ScoreScale string         `json:"score_scale"`
	// ExportedTest is, for a paper-protocol model, the test report of the exported
	// model in eval mode over raw scores.
	ExportedTest *metrics.Report `json:"exported_test,omitempty"`
	// ROC is the test ROC curve, thinned to at most a few hundred points.
	ROC        []ROCPoint `json:"roc"`
	Histograms Histograms `json:"histograms"`
	// History holds the trainer's "epoch" events (model/train.Event) verbatim: their
	// schema belongs to the trainer's progress reports, not to the card.
	History json.RawMessage `json:"history,omitempty"`
	// PCA is a 2-D map of the latent codes z of test images (absent from cards
	// written before it was added).
	PCA *PCA `json:"pca,omitempty"`
}

// Training summarises how the model was trained.
type Training struct {
	Epochs             int     `json:"epochs"`
	BestEpoch          int     `json:"best_epoch"`
	Iterations         int     `json:"iterations"`
	BatchSize          int     `json:"batch_size"`
	LR                 float64 `json:"lr"`
	Beta1              float64 `json:"beta1"`
	Beta2              float64 `json:"beta2"`
	WAdv               float64 `json:"w_adv"`
	WCon               float64 `json:"w_con"`
	WEnc               float64 `json:"w_enc"`
	Seed               int64   `json:"seed"`
	DataSeed           int64   `json:"data_seed"`
	ValidationFraction float64 `json:"validation_fraction"`
	MaxTrain           int     `json:"max_train,omitempty"`
	MaxTest            int     `json:"max_test,omitempty"`
	// WatchFraction is the share of the anomalies taken from the test split to watch
	// training by: the test split is rebuilt with it.
	WatchFraction    float64 `json:"watch_fraction,omitempty"`
	WatchedAnomalies int     `json:"watched_anomalies,omitempty"`
	TrainImages      int     `json:"train_images"`
	ValidationImages int     `json:"validation_images"`
	TestImages       int     `json:"test_images"`
	Selection        string  `json:"selection"`
}

// ROCPoint is one point of the ROC curve. Threshold is null for the first point
// (nothing flagged), whose threshold is +∞.
type ROCPoint struct {
	Threshold *float64 `json:"threshold"`
	FPR       float64  `json:"fpr"`
	TPR       float64  `json:"tpr"`
}

// Histograms are the test scores of normal and anomalous images over one range, with
// the threshold on the same scale.
type Histograms struct {
	Normal    metrics.Histogram `json:"normal"`
	Anomalous metrics.Histogram `json:"anomalous"`
	Threshold float64           `json:"threshold"`
}

// PCA is a linear map of the latent space onto a plane: a latent code v lands at
// (Components[0]·(v − Mean), Components[1]·(v − Mean)). It is fitted at training time
// on the z of the test images, and Points keeps a sample of them for the map.
type PCA struct {
	// Source says which codes the basis was fitted on.
	Source string `json:"source"`
	// Mean has the latent's length; Components holds two unit vectors of that length,
	// orthogonal, by decreasing variance.
	Mean       []float64    `json:"mean"`
	Components [2][]float64 `json:"components"`
	// Variance is the variance of the codes along each component, TotalVariance their
	// total variance (the trace of the covariance): the map shows the share
	// (Variance[0]+Variance[1]) / TotalVariance of the spread.
	Variance      [2]float64 `json:"variance"`
	TotalVariance float64    `json:"total_variance"`
	// Points are projected test codes, a sample of each class.
	Points []PCAPoint `json:"points"`
}

// PCAPoint is one projected reference code.
type PCAPoint struct {
	X         float64 `json:"x"`
	Y         float64 `json:"y"`
	Anomalous bool    `json:"anomalous"`
}

// Project maps a latent code onto the plane. v must have the basis's length.
func (p *PCA) Project(v []float32) (x, y float64) {
	if len(v) != len(p.Mean) {
		panic(fmt.Sprintf("card: projecting a code of length %d with a basis of length %d", len(v), len(p.Mean)))
	}
	c0, c1 := p.Components[0], p.Components[1]
	for i, m := range p.Mean {
		d := float64(v[i]) - m
		x += c0[i] * d
		y += c1[i] * d
	}
	return x, y
}

// ErrCard is wrapped by every error of [Parse].
var ErrCard = errors.New("invalid model card")

// Parse reads a card. It accepts any card of this format's version 1, old ones
// without the later optional parts included; a PCA whose lengths disagree with the
// config's latent size is dropped with an error, since projecting with it would be
// wrong.
func Parse(data []byte) (*Card, error) {
	var c Card
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCard, err)
	}
	if c.Format != "" && c.Format != Format {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrCard, c.Format, Format)
	}
	if c.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("%w: format version %d is newer than this app's %d: update the app", ErrCard, c.FormatVersion, FormatVersion)
	}
	if p := c.PCA; p != nil {
		nz := len(p.Mean)
		if nz == 0 || len(p.Components[0]) != nz || len(p.Components[1]) != nz || c.Config.Latent != 0 && nz != c.Config.Latent {
			c.PCA = nil
			return &c, fmt.Errorf("%w: PCA basis of lengths %d, %d, %d for latent %d; the map is left out", ErrCard, nz, len(p.Components[0]), len(p.Components[1]), c.Config.Latent)
		}
	}
	return &c, nil
}

// HasPCA reports whether the card carries a latent map.
func (c *Card) HasPCA() bool { return c.PCA != nil && len(c.PCA.Mean) > 0 }

// HasTest reports whether the card carries test figures to place an image among:
// histograms with counts and a ROC curve (a placeholder card has neither).
func (c *Card) HasTest() bool {
	return len(c.Histograms.Normal.Counts) > 0 && len(c.Histograms.Anomalous.Counts) == len(c.Histograms.Normal.Counts) && len(c.ROC) > 1
}

// Edge is the score at the lower edge of bin k of the histograms (k = len(Counts) is
// their upper end).
func (h Histograms) Edge(k int) float64 {
	n := len(h.Normal.Counts)
	if k >= n {
		return h.Normal.Max
	}
	return h.Normal.Min + (h.Normal.Max-h.Normal.Min)*float64(k)/float64(n)
}

// RatesAt returns the true and false positive rates of the test images when the
// threshold sits at the lower edge of bin k (0 ≤ k ≤ len(Counts)): an image is
// flagged when its score is at or above that edge, which the counts tell exactly
// (the bins at and above k, and the scores above the range). The rates are over all
// test images of each class, those below the range included.
func (h Histograms) RatesAt(k int) (tpr, fpr float64) {
	flagged := func(g metrics.Histogram) float64 {
		total := g.Total() + g.Below + g.Above
		if total == 0 {
			return 0
		}
		f := g.Above
		for _, c := range g.Counts[min(k, len(g.Counts)):] {
			f += c
		}
		return float64(f) / float64(total)
	}
	return flagged(h.Anomalous), flagged(h.Normal)
}

// NearestEdge is the bin edge closest to score s, in 0…len(Counts).
func (h Histograms) NearestEdge(s float64) int {
	n := len(h.Normal.Counts)
	if n == 0 || !(h.Normal.Max > h.Normal.Min) {
		return 0
	}
	k := int(math.Round((s - h.Normal.Min) / (h.Normal.Max - h.Normal.Min) * float64(n)))
	return max(0, min(n, k))
}

// Sizes of a card's figures: the ROC curve is thinned to about ROCPoints points, the
// histograms have Bins bins, and the latent map keeps MapPoints codes per class.
const (
	ROCPoints = 256
	Bins      = 40
	MapPoints = 200
)

// SetTestFigures fills the ROC curve and the histograms from the test scores and
// labels (true = anomalous); threshold is the decision threshold on the same scale.
func (c *Card) SetTestFigures(scores []float64, labels []bool, threshold float64) error {
	h, roc, err := Separate(scores, labels, threshold, Bins, ROCPoints)
	if err != nil {
		return err
	}
	c.Histograms, c.ROC = h, roc
	return nil
}

// Separate describes how the scores of normal and anomalous images (labels true)
// separate: their histograms over bins bins of the scores' whole range, with the
// threshold, and the ROC curve thinned to about rocPoints points.
func Separate(scores []float64, labels []bool, threshold float64, bins, rocPoints int) (Histograms, []ROCPoint, error) {
	roc, err := metrics.ROC(scores, labels)
	if err != nil {
		return Histograms{}, nil, err
	}
	var normal, anomalous []float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range scores {
		if labels[i] {
			anomalous = append(anomalous, s)
		} else {
			normal = append(normal, s)
		}
		lo, hi = math.Min(lo, s), math.Max(hi, s)
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || math.IsNaN(lo) || math.IsNaN(hi) {
		return Histograms{}, nil, fmt.Errorf("scores span [%v, %v]: no histogram possible", lo, hi)
	}
	h := Histograms{
		Normal:    metrics.NewHistogram(normal, lo, hi, bins),
		Anomalous: metrics.NewHistogram(anomalous, lo, hi, bins),
		Threshold: threshold,
	}
	return h, thinROC(roc, rocPoints), nil
}

// thinROC keeps the first and last points and every point at least 2/maxPoints away
// (FPR plus TPR distance) from the last one kept: the curve runs a distance of 2 from
// (0, 0) to (1, 1), so at most maxPoints+2 remain, spread along its length, which keeps
// its corners where thinning by index would cut them.
func thinROC(roc []metrics.Point, maxPoints int) []ROCPoint {
	step := 2 / float64(maxPoints)
	var out []ROCPoint
	add := func(p metrics.Point) {
		rp := ROCPoint{FPR: p.FPR, TPR: p.TPR}
		if !math.IsInf(p.Threshold, 0) {
			t := p.Threshold
			rp.Threshold = &t
		}
		out = append(out, rp)
	}
	for i, p := range roc {
		if i == 0 || i == len(roc)-1 {
			add(p)
			continue
		}
		last := out[len(out)-1]
		if math.Abs(p.FPR-last.FPR)+math.Abs(p.TPR-last.TPR) >= step {
			add(p)
		}
	}
	return out
}

// LatentMap fits a plane to latent codes z (n×nz, one label per code, true =
// anomalous) and keeps up to MapPoints projected codes of each class, spread evenly
// over their order, so that the browser can draw where one image's z and ẑ fall.
// source says which codes they are. It returns nil for fewer than 2 codes.
func LatentMap(z []float32, labels []bool, nz int, source string) *PCA {
	n := len(labels)
	if n < 2 || nz < 2 || len(z) != n*nz {
		return nil
	}
	b := pca.Fit(z, n, nz, 2)
	m := &PCA{
		Source:        source,
		Mean:          b.Mean,
		Components:    [2][]float64{b.Components[0], b.Components[1]},
		Variance:      [2]float64{b.Variances[0], b.Variances[1]},
		TotalVariance: b.Total,
	}
	var byClass [2][]int
	for i, anomalous := range labels {
		if anomalous {
			byClass[1] = append(byClass[1], i)
		} else {
			byClass[0] = append(byClass[0], i)
		}
	}
	for _, idx := range byClass {
		keep := min(len(idx), MapPoints)
		for j := range keep {
			i := idx[j*len(idx)/keep]
			x, y := m.Project(z[i*nz : (i+1)*nz])
			m.Points = append(m.Points, PCAPoint{X: x, Y: y, Anomalous: labels[i]})
		}
	}
	return m
}
