package e2e

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

// TestUncalibratedModel: a model without calibration (an official checkpoint imported
// without normal images) shows its raw score and says it has no threshold, in the
// picker, on the card and in the teaching view, instead of inventing a verdict.
func TestUncalibratedModel(t *testing.T) {
	data, _ := weights.Default()
	wf, err := model.ReadWeights(data)
	if err != nil {
		t.Fatal(err)
	}
	wf.Calibration = model.Uncalibrated(model.ScoreMSE)
	wf.Provenance.Notes = "imported without calibration"
	models := t.TempDir()
	if err := wf.WriteFile(filepath.Join(models, "imported.safetensors")); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), ModelsDir: models, NoTraining: true, Version: "e2e"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the default model", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, 2*time.Minute)
	waitFor(t, ctx, "the model list", `document.querySelectorAll('#model-select option').length === 2`, time.Minute)
	evaluate[bool](t, ctx, `(() => { const s = document.getElementById("model-select"); s.value = "imported"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	waitFor(t, ctx, "the imported model", `document.querySelector('#model-status[data-status="ready"]') && document.getElementById("model-uncalibrated") !== null`, time.Minute)

	digit := []upload{file("digit.png", "image/png", digitPNGs(t, 1)[0])}
	want := nativeScores(t, digit)["digit.png"] // the default weights: the same raw score
	evaluate[int](t, ctx, dropScript(digit))
	waitFor(t, ctx, "the score", `document.querySelector('article.card[data-state="done"]') !== null`, time.Minute)
	cards := evaluate[[]card](t, ctx, readCards)
	if len(cards) != 1 {
		t.Fatalf("cards %+v", cards)
	}
	c := cards[0]
	raw, _ := strconv.ParseFloat(c.Raw, 64)
	if c.Verdict != "uncalibrated" || c.Score != "" || math.Abs(raw-want.Raw) > tolerance*want.Raw {
		t.Errorf("card %+v: want verdict uncalibrated, no score, raw %g", c, want.Raw)
	}

	evaluate[bool](t, ctx, `document.querySelector("article.card a.explain").click(), true`)
	waitFor(t, ctx, "the teaching view", `document.getElementById("teach-verdict") !== null`, time.Minute)
	if v := evaluate[string](t, ctx, `document.getElementById("teach-verdict").dataset.value`); v != "uncalibrated" {
		t.Errorf("teaching view verdict %q, want uncalibrated", v)
	}
	if evaluate[bool](t, ctx, `document.getElementById("teach-score") !== null`) {
		t.Error("the teaching view shows a calibrated score for an uncalibrated model")
	}
}
