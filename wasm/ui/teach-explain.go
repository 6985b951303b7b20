package ui

import (
	"cmp"
	"slices"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/card"
)

// explanation is everything the teaching view shows about one image, computed once
// from the model's own outputs so that every number on the page is one model/
// computes: the terms are model.Terms, their sum runs in index order as
// model.AnomalyScore's does, so Raw is bit for bit the score of the result card.
type explanation struct {
	Name string
	Kind model.ScoreKind
	// Z = G_E(x), ZHat = E(x̂).
	Z, ZHat []float32
	// Terms[i] is (z_i − ẑ_i)² (or |z_i − ẑ_i| for the L1 score); Order lists the
	// dimensions by decreasing term.
	Terms []float64
	Order []int
	// Sum is Σ Terms; Raw is Sum/nz (MSE) or Sum (L1): the raw score A(x).
	Sum, Raw float64
	// Score is Raw calibrated to [0, 1]; Anomalous is Raw ≥ the threshold.
	Score     float64
	Anomalous bool
	// WorkerRaw is the raw score the kernel worker computed (model.AnomalyScore):
	// Raw must equal it bit for bit, which the page shows for tests to check.
	WorkerRaw float64
	// data: URLs of the input as the model sees it, of x̂ and of |x − x̂|.
	InputURL, ReconURL, HeatURL string
	// MapZ and MapZHat are z and ẑ projected on the card's latent map (valid when
	// HasMap).
	HasMap           bool
	MapZ, MapZHat    [2]float64
	ZMaxAbs, TermMax float64
}

// explain builds the explanation of one image from what a kernel worker sent back
// for it (its codes and its images' URLs); c may be nil (no card).
func explain(name string, r scoreResult, cal model.Calibration, c *card.Card) *explanation {
	z, zhat := r.Latents.Z, r.Latents.ZHat
	e := &explanation{Name: name, Kind: cal.Score, Z: z, ZHat: zhat, WorkerRaw: r.Raw}
	e.Terms = model.Terms(nil, z, zhat, cal.Score)
	for _, t := range e.Terms {
		e.Sum += t
		e.TermMax = max(e.TermMax, t)
	}
	e.Raw = e.Sum
	if cal.Score != model.ScoreL1 {
		e.Raw = e.Sum / float64(len(e.Terms))
	}
	e.Score, e.Anomalous = cal.Normalize(e.Raw), cal.Anomalous(e.Raw)
	e.Order = make([]int, len(e.Terms))
	for i := range e.Order {
		e.Order[i] = i
	}
	slices.SortStableFunc(e.Order, func(a, b int) int { return cmp.Compare(e.Terms[b], e.Terms[a]) })
	for i := range z {
		e.ZMaxAbs = max(e.ZMaxAbs, abs32(z[i]), abs32(zhat[i]))
	}
	e.InputURL, e.ReconURL, e.HeatURL = jsText(r.Images[0]), jsText(r.Images[1]), jsText(r.Images[2])
	if c != nil && c.HasPCA() && len(c.PCA.Mean) == len(z) {
		e.HasMap = true
		e.MapZ[0], e.MapZ[1] = c.PCA.Project(z)
		e.MapZHat[0], e.MapZHat[1] = c.PCA.Project(zhat)
	}
	return e
}

// topShare is the share of the sum carried by the k largest terms.
func (e *explanation) topShare(k int) float64 {
	if e.Sum == 0 {
		return 0
	}
	var s float64
	for _, i := range e.Order[:min(k, len(e.Order))] {
		s += e.Terms[i]
	}
	return s / e.Sum
}

// l1 and sumSquares are the two distances between z and ẑ, whichever the model
// scores with, for the side-by-side comparison.
func (e *explanation) l1() float64 {
	return model.AnomalyScore(e.Z, e.ZHat, model.ScoreL1)
}

func (e *explanation) meanSquare() float64 {
	return model.AnomalyScore(e.Z, e.ZHat, model.ScoreMSE)
}

func abs32(v float32) float64 {
	if v < 0 {
		return float64(-v)
	}
	return float64(v)
}
