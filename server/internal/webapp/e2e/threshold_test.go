package e2e

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// TestBatchThreshold: a batch of MNIST digits named by their class (label7-…) gets,
// from the names, a confusion matrix that matches its cards; the batch's threshold
// slider re-labels every card, the summary and the exported CSV, and the reset
// brings the model's verdicts back; the table view and the "anomalous only" filter
// list what they say.
func TestBatchThreshold(t *testing.T) {
	const n = 30
	pngs := digitPNGs(t, n)
	_, labels := mnistTest(t)
	var batch []upload
	for i, b := range pngs {
		batch = append(batch, file(fmt.Sprintf("label%d-%02d.png", labels[i], i), "image/png", b))
	}
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	ctx := newBrowser(t)
	downloads := t.TempDir()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, 2*time.Minute)
	evaluate[int](t, ctx, dropScript(batch))
	waitFor(t, ctx, "the batch", fmt.Sprintf(`document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "%d"`, n), 2*time.Minute)

	// The confusion matrix, from the names, against the cards' own verdicts.
	confusion := func() (tp, fp, tn, fn int) {
		for _, c := range evaluate[[]card](t, ctx, readCards) {
			anomaly := strings.HasPrefix(c.File, "label2-")
			switch {
			case anomaly && c.Verdict == "anomalous":
				tp++
			case anomaly:
				fn++
			case c.Verdict == "anomalous":
				fp++
			default:
				tn++
			}
		}
		return
	}
	page := func() map[string]string {
		return evaluate[map[string]string](t, ctx, `({...document.getElementById("batch-review").dataset, ...Object.fromEntries(Object.entries(document.getElementById("batch-confusion")?.dataset || {}).map(([k, v]) => ["c_" + k, v]))})`)
	}
	check := func(what string) map[string]string {
		t.Helper()
		tp, fp, tn, fn := confusion()
		p := page()
		if p["labelled"] != fmt.Sprint(n) || p["c_tp"] != fmt.Sprint(tp) || p["c_fp"] != fmt.Sprint(fp) || p["c_tn"] != fmt.Sprint(tn) || p["c_fn"] != fmt.Sprint(fn) || p["anomalous"] != fmt.Sprint(tp+fp) {
			t.Errorf("%s: the page says %v; its cards give TP %d, FP %d, TN %d, FN %d", what, p, tp, fp, tn, fn)
		}
		return p
	}
	before := check("at the model's threshold")
	modelVerdicts := map[string]string{}
	for _, c := range evaluate[[]card](t, ctx, readCards) {
		modelVerdicts[c.File] = c.Verdict
	}
	t.Logf("at the model's threshold %s: %v", before["threshold"], before)

	// Down to 0: every image is at or above it.
	// The slider starts at the model's threshold, in percent of the 0–1 scale (the
	// value may land on the nearest whole percent, whatever order the attributes come in).
	if v := parse(t, evaluate[string](t, ctx, `document.getElementById("batch-threshold").value`)); math.Abs(v-100*parse(t, before["threshold"])) > 0.5 {
		t.Errorf("the slider starts at %v%%, the threshold is %s", v, before["threshold"])
	}
	slide := func(v string) {
		evaluate[bool](t, ctx, `(() => { const s = document.getElementById("batch-threshold"); s.value = "`+v+`"; s.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`)
	}
	slide("0")
	waitFor(t, ctx, "every card re-labelled", fmt.Sprintf(`document.querySelectorAll('article.card[data-verdict="anomalous"]').length === %d`, n), 30*time.Second)
	if p := check("at 0"); p["custom"] != "true" || p["threshold"] != "0" {
		t.Errorf("at 0: %v", p)
	}
	if s := evaluate[string](t, ctx, `document.querySelector(".batch-summary").textContent`); !strings.Contains(s, fmt.Sprintf("%d anomalous", n)) {
		t.Errorf("summary at 0: %q", s)
	}
	evaluate[bool](t, ctx, `(document.getElementById("export-button").click(), true)`)
	rows := readCSV(t, filepath.Join(downloads, "ganomaly-batch.csv"))
	for _, r := range rows[1:] {
		if r[6] != "anomalous" || r[5] != "0" {
			t.Errorf("CSV at 0: %v", r)
			break
		}
	}

	// The reset brings the model's verdicts back.
	evaluate[bool](t, ctx, `(document.getElementById("reset-threshold").click(), true)`)
	waitFor(t, ctx, "the model's threshold again", `document.getElementById("batch-review").dataset.custom === "false" && document.getElementById("batch-bar").dataset.settled === "true"`, 30*time.Second)
	for _, c := range evaluate[[]card](t, ctx, readCards) {
		if modelVerdicts[c.File] != c.Verdict {
			t.Errorf("%s after the reset: %s, the model said %s", c.File, c.Verdict, modelVerdicts[c.File])
		}
	}
	check("after the reset")

	// A table, then anomalous only.
	evaluate[bool](t, ctx, `(document.getElementById("show-table").click(), true)`)
	waitFor(t, ctx, "the table", fmt.Sprintf(`document.querySelectorAll("#batch-table tbody tr").length === %d`, n), 30*time.Second)
	evaluate[bool](t, ctx, `(document.getElementById("show-anomalous").click(), true)`)
	waitFor(t, ctx, "anomalous only", fmt.Sprintf(`document.querySelectorAll("#batch-table tbody tr").length === %s && document.querySelectorAll('#batch-table tbody tr:not([data-verdict="anomalous"])').length === 0`, before["anomalous"]), 30*time.Second)
}

func parse(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readCSV waits for a downloaded CSV and reads it.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s downloaded", path)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("CSV: %v, %d rows", err, len(rows))
	}
	return rows
}
