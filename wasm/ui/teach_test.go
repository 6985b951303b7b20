package ui

import (
	"math"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

func TestLinear(t *testing.T) {
	s := linear{0, 10, 100, 200}
	if s.at(5) != 150 || s.at(-10) != 0 || s.clampAt(-10) != 100 || s.clampAt(99) != 200 {
		t.Errorf("at(5) %g at(-10) %g clampAt(-10) %g clampAt(99) %g", s.at(5), s.at(-10), s.clampAt(-10), s.clampAt(99))
	}
	// Reversed range (an SVG y axis) and a degenerate domain.
	if y := (linear{0, 1, 90, 10}).at(0.25); y != 70 {
		t.Errorf("reversed at(0.25) = %g, want 70", y)
	}
	if m := (linear{3, 3, 0, 8}).at(3); m != 4 {
		t.Errorf("degenerate domain maps to %g, want the middle 4", m)
	}
}

// Bars by hand: two values in [0, 100] × [0, 40], zero line at y 20.
func TestDivergingBars(t *testing.T) {
	b := divergingBars([]float64{1, -0.5}, 1, 0, 100, 0, 40)
	want := []bar{{X: 0, W: 40, Y: 0, H: 20}, {X: 50, W: 40, Y: 20, H: 10}}
	for i := range want {
		if b[i] != want[i] {
			t.Errorf("bar %d = %+v, want %+v", i, b[i], want[i])
		}
	}
	u := upBars([]float64{2, 1, -1}, 2, 0, 30, 10, 50)
	if u[0] != (bar{X: 0, W: 10, Y: 10, H: 40}) || u[1] != (bar{X: 10, W: 10, Y: 30, H: 20}) || u[2].H != 0 {
		t.Errorf("upBars = %+v", u)
	}
}

func TestMapBounds(t *testing.T) {
	lo, hi := mapBounds([]card.PCAPoint{{X: 0, Y: 0}, {X: 10, Y: 2}}, [2]float64{-10, 4})
	if math.Abs(lo[0]+11) > 1e-6 || math.Abs(hi[0]-11) > 1e-6 || math.Abs(lo[1]+0.2) > 1e-6 || math.Abs(hi[1]-4.2) > 1e-6 {
		t.Errorf("bounds %v %v", lo, hi)
	}
}

// The explanation's numbers are model/'s: the sum of the terms over nz is
// AnomalyScore exactly, and calibration and verdict are the Calibration's.
func TestExplain(t *testing.T) {
	z := []float32{0.5, -1.25, 2, 0.1}
	zhat := []float32{0.25, -1, 0, 0.3}
	cal := model.Calibration{Score: model.ScoreMSE, Min: 0.1, Max: 2.1, Threshold: 1}
	c := &card.Card{Config: model.Config{Latent: 4}, PCA: &card.PCA{
		Mean: []float64{0, 0, 0, 0}, Components: [2][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}}}}
	e := explain("x.png", scored(z, zhat), cal, c)
	// terms 0.0625, 0.0625, 4, 0.04: sum 4.165, mean 1.04125.
	if want := model.AnomalyScore(z, zhat, model.ScoreMSE); e.Raw != want || math.Abs(e.Raw-1.04125) > 1e-7 {
		t.Errorf("raw %v, AnomalyScore %v", e.Raw, want)
	}
	if e.Raw != e.WorkerRaw {
		t.Errorf("raw %v, the worker's %v", e.Raw, e.WorkerRaw)
	}
	if e.Score != cal.Normalize(e.Raw) || !e.Anomalous || e.Order[0] != 2 || e.Order[3] != 3 {
		t.Errorf("score %v, anomalous %v, order %v", e.Score, e.Anomalous, e.Order)
	}
	if !e.HasMap || e.MapZ != [2]float64{0.5, -1.25} || e.MapZHat != [2]float64{0.25, -1} {
		t.Errorf("map: %v %v %v", e.HasMap, e.MapZ, e.MapZHat)
	}
	if s := e.topShare(1); math.Abs(s-4/4.165) > 1e-6 {
		t.Errorf("top share %v", s)
	}
	l1 := explain("x.png", scored(z, zhat), model.Calibration{Score: model.ScoreL1, Min: 0, Max: 4, Threshold: 3}, nil)
	if l1.Raw != model.AnomalyScore(z, zhat, model.ScoreL1) || l1.Raw != l1.Sum || l1.HasMap {
		t.Errorf("L1: raw %v sum %v", l1.Raw, l1.Sum)
	}
}

func TestContrastFor(t *testing.T) {
	m1, m2 := api.Model{URL: "/w/a"}, api.Model{URL: "/w/b"}
	list := []teachSubject{{ID: 4, Model: m1}, {ID: 3, Model: m2, Anomalous: true}, {ID: 2, Model: m1, Anomalous: true}, {ID: 1, Model: m1}}
	if o, ok := contrastFor(list[3], list); !ok || o.ID != 2 {
		t.Errorf("contrast of 1: %+v", o)
	}
	if o, ok := contrastFor(teachSubject{ID: 9, Model: m1, Anomalous: true}, list[:1]); !ok || o.ID != 4 {
		t.Errorf("contrast of 9: %+v", o)
	}
	if _, ok := contrastFor(list[1], list); ok {
		t.Error("found a contrast scored by another model")
	}
}

// The teaching view prerenders without a browser, and with an explanation it renders
// every panel (natively, as a smoke test of the charts).
func TestTeachPageRenders(t *testing.T) {
	html := render(t, &teachPage{})
	if !strings.Contains(html, `id="teach"`) || !strings.Contains(html, `id="teach-file"`) {
		t.Errorf("empty teaching view:\n%s", html)
	}
	z := []float32{0.5, -1.25, 2, 0.1}
	zhat := []float32{0.25, -1, 0, 0.3}
	cal := model.Calibration{Score: model.ScoreMSE, Min: 0.1, Max: 2.1, Threshold: 1}
	c := &card.Card{Config: model.Config{Latent: 4}, ScoreScale: card.ScaleRaw,
		Histograms: card.Histograms{
			Normal:    metrics.NewHistogram([]float64{0.1, 0.2, 0.5}, 0, 2, 4),
			Anomalous: metrics.NewHistogram([]float64{1.5, 1.9, 0.9}, 0, 2, 4), Threshold: 1},
		ROC: []card.ROCPoint{{FPR: 0, TPR: 0}, {FPR: 0.2, TPR: 0.8}, {FPR: 1, TPR: 1}},
		PCA: &card.PCA{Mean: []float64{0, 0, 0, 0}, Components: [2][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}},
			Variance: [2]float64{1, 1}, TotalVariance: 3, Points: []card.PCAPoint{{X: 1, Y: 1}, {X: 0, Y: 2, Anomalous: true}}}}
	a := explain("a.png", scored(z, zhat), cal, c)
	b := explain("b.png", scored(z, z), cal, c)
	p := &teachPage{state: "ready", a: a, b: b, card: c, model: api.Model{Calibration: cal}, edge: 2}
	html = render(t, p)
	// go-app writes attributes in no fixed order: look for each within its tag.
	for id, value := range map[string]string{"teach-raw": full(a.Raw), "teach-tpr": "0.6666666666666666", "teach-fpr": "0"} {
		if tag := tagWithID(html, id); !strings.Contains(tag, `data-value="`+value+`"`) {
			t.Errorf("teaching view's #%s: %s, want data-value %s", id, tag, value)
		}
	}
	if !strings.Contains(tagWithID(html, "teach-map-wrap"), `data-points="2"`) {
		t.Errorf("map: %s", tagWithID(html, "teach-map-wrap"))
	}
	for _, want := range []string{`<svg`, `data-term="` + full(a.Terms[2]) + `"`, `id="teach-compare-table"`} {
		if !strings.Contains(html, want) {
			t.Errorf("teaching view lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(html)
	}
}

func scored(z, zhat []float32) scoreResult {
	return scoreResult{Raw: model.AnomalyScore(z, zhat, model.ScoreMSE), Latents: latents{Z: z, ZHat: zhat}}
}

// tagWithID returns the opening tag of the element with that id in html, or "".
func tagWithID(html, id string) string {
	i := strings.Index(html, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(html[:i], "<")
	end := strings.Index(html[i:], ">")
	return html[start : i+end+1]
}

// A scored card links to its explanation; a queued one does not.
func TestResultCardLinksToTeach(t *testing.T) {
	html := render(t, &resultCard{Item: item{ID: 7, Name: "a.png", State: itemDone}})
	if !strings.Contains(html, `href="/teach?id=7"`) {
		t.Errorf("scored card without the teaching link:\n%s", html)
	}
	if html := render(t, &resultCard{Item: item{ID: 8, Name: "b.png"}}); strings.Contains(html, "/teach") {
		t.Errorf("queued card links to the teaching view:\n%s", html)
	}
}

// A card without a latent map (older cards) or without test figures (a placeholder)
// renders notes in place of those panels.
func TestTeachPageWithoutMap(t *testing.T) {
	z := []float32{0.5, -1.25, 2, 0.1}
	cal := model.Calibration{Score: model.ScoreMSE, Min: 0.1, Max: 2.1, Threshold: 1}
	a := explain("a.png", scored(z, z), cal, nil)
	html := render(t, &teachPage{state: "ready", a: a, card: &card.Card{Placeholder: true}, model: api.Model{Calibration: cal}})
	for _, want := range []string{"has no latent map", "has no test figures", `id="teach-score"`} {
		if !strings.Contains(html, want) {
			t.Errorf("teaching view without a map lacks %q", want)
		}
	}
	if strings.Contains(html, `id="teach-map"`) || strings.Contains(html, `id="teach-hist"`) {
		t.Error("teaching view draws a map or a histogram without the data")
	}
}
