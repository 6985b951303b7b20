package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// TestSampleDigits: with no images at hand, one clicks a shipped MNIST test digit
// and gets the score native scoring gives for that file; after one visit, with the
// server stopped and the network cut, "Score all" scores every one of them.
func TestSampleDigits(t *testing.T) {
	web := webDir(t)
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: web, Version: "e2e"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the model and the sample digits", `document.querySelector('#drop-zone[data-ready="true"]') !== null && document.querySelector('#samples button.sample:not(:disabled)') !== null`, 2*time.Minute)
	if n := evaluate[int](t, ctx, `document.querySelectorAll('#samples button.sample[data-anomaly="true"]').length`); n != 2 {
		t.Errorf("%d samples marked as the default model's anomaly (digit 2), want 2", n)
	}
	evaluate[bool](t, ctx, `(document.querySelector('#samples button.sample[data-file="mnist-7-1.png"]').click(), true)`)
	waitFor(t, ctx, "the sample's score", `document.querySelector('article.card[data-file="mnist-7-1.png"][data-state="done"]') !== null`, time.Minute)
	png, err := os.ReadFile(filepath.Join(web, "samples", "mnist-7-1.png"))
	if err != nil {
		t.Fatal(err)
	}
	checkCards(t, evaluate[[]card](t, ctx, readCards), nativeScores(t, []upload{file("mnist-7-1.png", "image/png", png)}))

	waitFor(t, ctx, "the samples in the cache", `caches.match("/web/samples/mnist-9-2.png").then(r => !!r)`, time.Minute)
	srv.stop()
	goOffline(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the samples offline", `document.querySelector('#samples button.sample:not(:disabled)') !== null`, 2*time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("clear-button")?.click(), document.getElementById("score-samples").click(), true)`)
	waitFor(t, ctx, "every sample scored offline", `document.querySelectorAll('article.card[data-state="done"]').length === 20`, 2*time.Minute)
	var anomalous int
	for _, c := range evaluate[[]card](t, ctx, readCards) {
		if c.Verdict == "anomalous" {
			anomalous++
		}
	}
	t.Logf("the 20 sample digits offline: %d called anomalous by the default model", anomalous)
}
