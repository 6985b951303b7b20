package e2e

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/model"
	modelcard "github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

var updateTeachScreenshot = flag.Bool("update-teach-screenshot", false, "write the screenshot of the teaching view to docs/screenshot-teach.png")

// TestTeachingView drops a digit and a photo, opens the digit's teaching view from its
// result card, and checks the numbers it shows against package model computed
// natively: the per-dimension terms, that their mean is the raw score shown, the
// calibrated score and the verdict; then moves the threshold slider and checks the
// true and false positive rates against the card's histogram counts; then checks the
// latent map's points and the image's projected z; and at phone width, that nothing
// overflows the screen.
func TestTeachingView(t *testing.T) {
	ctx := newBrowser(t)
	web := webDir(t)
	data, _ := weights.Default()
	det, err := model.LoadDetector(data)
	if err != nil {
		t.Fatal(err)
	}
	c, cardJSON := teachCard(t, det)
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: web, Version: "teach", DefaultWeights: data, DefaultCard: cardJSON})

	digit := digitPNGs(t, 1)[0]
	files := []upload{file("digit.png", "image/png", digit), file("photo.jpg", "image/jpeg", photoJPEG(t))}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, 2*time.Minute)
	evaluate[int](t, ctx, dropScript(files))
	waitFor(t, ctx, "the batch", `document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "2"`, time.Minute)
	cardRaw := evaluate[string](t, ctx, `document.querySelector('article.card[data-file="digit.png"]').dataset.raw`)

	start := time.Now()
	evaluate[bool](t, ctx, `document.querySelector('article.card[data-file="digit.png"] a.explain').click(), true`)
	waitFor(t, ctx, "the teaching view", `document.querySelector('#teach[data-state="ready"]') !== null && document.getElementById("teach-compare-table") !== null`, time.Minute)
	t.Logf("figure: teaching view ready %v after the click (a kernel worker started, the model loaded, two images run)", time.Since(start).Round(time.Millisecond))
	if p := evaluate[string](t, ctx, `location.pathname + location.search`); !strings.HasPrefix(p, "/teach?id=") {
		t.Errorf("the link went to %s", p)
	}

	// One scale: the verdict reads the score and the threshold on the 0–1 scale of the
	// cards, with the raw values beside; every chart names its axis and has a legend.
	thr := strconv.FormatFloat(det.File.Calibration.NormalizedThreshold(), 'f', 4, 64)
	if line := evaluate[string](t, ctx, `document.getElementById("teach-verdict").parentElement.textContent`); !strings.Contains(line, "threshold "+thr+" on the 0–1 scale") || !strings.Contains(line, "raw") {
		t.Errorf("the verdict line does not read the cards' threshold %s on the 0–1 scale: %q", thr, line)
	}
	if edge := evaluate[string](t, ctx, `document.getElementById("teach-edge").textContent`); !strings.Contains(edge, "on the 0–1 scale (raw ") {
		t.Errorf("the slider's threshold %q is not on the 0–1 scale", edge)
	}
	if axis := evaluate[string](t, ctx, `document.getElementById("teach-hist").textContent`); !strings.Contains(axis, "raw score A(x) →") {
		t.Errorf("the histogram does not name its axis: %q", axis)
	}
	if n := evaluate[int](t, ctx, `document.querySelectorAll("#teach-population .legend span").length`); n != 5 {
		t.Errorf("the histogram's legend has %d entries, want 5", n)
	}

	// What the page shows.
	type shown struct {
		Raw, Worker, Sum, Score, Verdict, NZ string
		Terms                                []struct{ Dim, Term string }
	}
	got := evaluate[shown](t, ctx, `({
		raw: document.getElementById("teach-raw").dataset.value,
		worker: document.getElementById("teach-raw").dataset.worker,
		sum: document.getElementById("teach-sum").dataset.value,
		nz: document.getElementById("teach-nz").dataset.value,
		score: document.getElementById("teach-score").dataset.value,
		verdict: document.getElementById("teach-verdict").dataset.value,
		terms: [...document.querySelectorAll("#teach-terms tr[data-dim]")].map(r => ({dim: r.dataset.dim, term: r.dataset.term}))})`)
	parse := func(what, s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", what, s, err)
		}
		return v
	}
	raw, sum, score := parse("raw", got.Raw), parse("sum", got.Sum), parse("score", got.Score)
	nz := det.Config().Latent
	if len(got.Terms) != nz || (got.NZ != strconv.Itoa(nz) && det.File.Calibration.Score == model.ScoreMSE) {
		t.Fatalf("%d terms shown, nz %s; want %d", len(got.Terms), got.NZ, nz)
	}

	// Natively, from the same file.
	x, err := imageio.Load(digit, det.Config().ImageSize, det.Config().Channels)
	if err != nil {
		t.Fatal(err)
	}
	z, _, zhat := det.Generator().Forward(x, 1)
	wantTerms := model.Terms(nil, z, zhat, det.File.Calibration.Score)
	wantRaw := model.AnomalyScore(z, zhat, det.File.Calibration.Score)

	// The page's own arithmetic is exact: its terms, added in dimension order and
	// divided by nz, give the raw score it shows, bit for bit; the calibrated score
	// and the verdict are the calibration's of that raw score.
	terms := make([]float64, nz)
	worstTerm := 0.0
	for _, r := range got.Terms {
		d, _ := strconv.Atoi(r.Dim)
		terms[d-1] = parse("term", r.Term)
		worstTerm = math.Max(worstTerm, math.Abs(terms[d-1]-wantTerms[d-1]))
	}
	var pageSum float64
	for _, v := range terms {
		pageSum += v
	}
	pageRaw := pageSum // the paper's L1 score is the sum itself
	if det.File.Calibration.Score == model.ScoreMSE {
		pageRaw = pageSum / float64(nz)
	}
	if pageSum != sum || pageRaw != raw {
		t.Errorf("shown terms sum to %v (shown %v), as a score %v; shown raw %v", pageSum, sum, pageRaw, raw)
	}
	cal := det.File.Calibration
	if score != cal.Normalize(raw) || got.Verdict != map[bool]string{true: "anomalous", false: "normal"}[cal.Anomalous(raw)] {
		t.Errorf("shown score %v verdict %s; calibration of %v gives %v %v", score, got.Verdict, raw, cal.Normalize(raw), cal.Anomalous(raw))
	}
	// And the page agrees with the native model, and with the result card.
	t.Logf("teaching view: raw %.9g (native %.9g, result card %s), max |Δterm| %.2g, score %.6f, %s", raw, wantRaw, cardRaw, worstTerm, score, got.Verdict)
	if math.Abs(raw-wantRaw) > tolerance*math.Max(wantRaw, 1e-3) || worstTerm > tolerance*math.Max(slicesMax(wantTerms), 1e-3) {
		t.Errorf("teaching view and native model differ: raw %v vs %v, terms by up to %g", raw, wantRaw, worstTerm)
	}
	// The kernel worker's own score (model.AnomalyScore in wasm), here and on the
	// result card, is the page's raw score exactly: same codes, same sum.
	if w, cr := parse("worker raw", got.Worker), parse("card raw", cardRaw); w != raw || cr != raw {
		t.Errorf("teaching view raw %v; its worker's %v; the result card's %v", raw, w, cr)
	}

	// The slider: move it to a few bin edges; the rates shown must be those of the
	// card's histogram counts.
	hs := c.Histograms
	slide := func(k int) map[string]string {
		evaluate[bool](t, ctx, `(() => { const s = document.getElementById("teach-threshold"); s.value = "`+strconv.Itoa(k)+`"; s.dispatchEvent(new Event("input", {bubbles: true})); return true })()`)
		waitFor(t, ctx, "the slider", `document.getElementById("teach-edge").dataset.bin === "`+strconv.Itoa(k)+`"`, 10*time.Second)
		return evaluate[map[string]string](t, ctx, `({tpr: document.getElementById("teach-tpr").dataset.value, fpr: document.getElementById("teach-fpr").dataset.value,
			edge: document.getElementById("teach-edge").dataset.value})`)
	}
	for _, k := range []int{0, len(hs.Normal.Counts) / 4, len(hs.Normal.Counts) / 2, len(hs.Normal.Counts)} {
		rates := slide(k)
		tpr, fpr := nativeRates(hs, k)
		if parse("tpr", rates["tpr"]) != tpr || parse("fpr", rates["fpr"]) != fpr {
			t.Errorf("slider at edge %d (%s): TPR %s FPR %s; from the card's counts %v %v", k, rates["edge"], rates["tpr"], rates["fpr"], tpr, fpr)
		}
		t.Logf("slider at edge %d, threshold %s: TPR %s, FPR %s", k, rates["edge"], rates["tpr"], rates["fpr"])
	}
	slide(hs.NearestEdge(hs.Threshold)) // back at the model's threshold, for the screenshots

	// The latent map.
	m := evaluate[map[string]string](t, ctx, `(() => { const w = document.getElementById("teach-map-wrap"); return w ? {points: w.dataset.points, z: w.dataset.z} : {} })()`)
	if m["points"] != strconv.Itoa(len(c.PCA.Points)) {
		t.Errorf("the map shows %q points, the card has %d", m["points"], len(c.PCA.Points))
	}
	if xy := strings.Split(m["z"], ","); len(xy) == 2 {
		px, py := c.PCA.Project(z)
		if math.Abs(parse("map x", xy[0])-px) > 1e-3 || math.Abs(parse("map y", xy[1])-py) > 1e-3 {
			t.Errorf("z on the map at %s, natively (%g, %g)", m["z"], px, py)
		}
	} else {
		t.Errorf("the map's z: %q", m["z"])
	}

	// Phone width: the page reflows, nothing wider than the screen.
	for _, w := range []int64{360, 1280} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if sw := evaluate[int64](t, ctx, `document.documentElement.scrollWidth`); sw > w {
			t.Errorf("at %d px the page is %d px wide", w, sw)
		}
		if dir := os.Getenv("GANOMALY_E2E_SHOTS"); dir != "" { // for a look at each width
			if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
				os.WriteFile(filepath.Join(dir, "teach-"+strconv.FormatInt(w, 10)+".png"), png, 0o644)
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "screenshot-teach.png")
	if *updateTeachScreenshot {
		path = filepath.Join(repoRoot(t), "docs", "screenshot-teach.png")
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// Opened directly, without a card: the page offers a file picker and explains
	// the file chosen with the default model.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+"/teach")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the direct teaching view", `document.querySelector('#teach[data-client="true"]') !== null && document.getElementById("teach-file") !== null`, time.Minute)
	digitPath := filepath.Join(t.TempDir(), "digit.png")
	os.WriteFile(digitPath, digit, 0o644)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("teach-file"), []string{digitPath})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the picked file's explanation", `document.querySelector('#teach[data-state="ready"]') !== null`, time.Minute)
	if direct := parse("direct raw", evaluate[string](t, ctx, `document.getElementById("teach-raw").dataset.value`)); direct != raw {
		t.Errorf("opened directly, the same file's raw score is %v, from the card %v", direct, raw)
	}
}

// nativeRates counts, from a card's histograms, the shares of anomalous and normal
// test images at or above the lower edge of bin k.
func nativeRates(hs modelcard.Histograms, k int) (tpr, fpr float64) {
	share := func(counts []int, below, above int) float64 {
		var all, flagged int
		for i, c := range counts {
			all += c
			if i >= k {
				flagged += c
			}
		}
		return float64(flagged+above) / float64(all+below+above)
	}
	return share(hs.Anomalous.Counts, hs.Anomalous.Below, hs.Anomalous.Above), share(hs.Normal.Counts, hs.Normal.Below, hs.Normal.Above)
}

// teachCard is the default model's card with every part the teaching view shows:
// the embedded one when it has them, else completed from the first 600 MNIST test
// digits scored natively (labels from the class its provenance holds out), so that
// the test does not depend on how the embedded card was made.
func teachCard(t *testing.T, det *model.Detector) (*modelcard.Card, []byte) {
	t.Helper()
	_, embedded := weights.Default()
	c, err := modelcard.Parse(embedded)
	if err != nil || c == nil {
		c = &modelcard.Card{}
	}
	if c.HasTest() && c.HasPCA() && c.ScoreScale == modelcard.ScaleRaw {
		return c, embedded
	}
	const n = 600
	pngs := digitPNGs(t, n)
	_, labels := mnistTest(t)
	class, err := strconv.Atoi(det.File.Provenance.AnomalyClass)
	if err != nil {
		class = 0
	}
	cfg := det.Config()
	nz := cfg.Latent
	var scores []float64
	var zs []float32
	var anomalous []bool
	for i, p := range pngs {
		x, err := imageio.Load(p, cfg.ImageSize, cfg.Channels)
		if err != nil {
			t.Fatal(err)
		}
		z, _, zhat := det.Generator().Forward(x, 1)
		scores = append(scores, model.AnomalyScore(z, zhat, det.File.Calibration.Score))
		zs = append(zs, z[:nz]...)
		anomalous = append(anomalous, int(labels[i]) == class)
	}
	hadTest := c.HasTest() && c.ScoreScale == modelcard.ScaleRaw
	if !hadTest {
		c.Format, c.FormatVersion, c.Config, c.Calibration, c.ScoreScale = modelcard.Format, modelcard.FormatVersion, cfg, det.File.Calibration, modelcard.ScaleRaw
		if err := c.SetTestFigures(scores, anomalous, det.File.Calibration.Threshold); err != nil {
			t.Fatal(err)
		}
	}
	c.PCA = modelcard.LatentMap(zs, anomalous, nz, "test: first 600 MNIST test digits")
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("card for the test: latent map of %d test digits (%d points); test figures from the embedded card: %v", n, len(c.PCA.Points), hadTest)
	return c, b
}

func slicesMax(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}
