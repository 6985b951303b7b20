package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// BenchmarkTrainInBrowser trains one epoch of the browser's default run (MNIST with
// digit 2 held out: 5,400 train normals, 32×32 grey, width 16, batch 64) in headless
// Chromium, on one Web Worker and on two, and reports the training throughput (between
// the first and the last step) and the whole run's time (with the validation pass,
// calibration and the test scoring). make bench-browser runs it.
func BenchmarkTrainInBrowser(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers%d", workers), func(b *testing.B) {
			srv := startServer(b, "127.0.0.1:0", httpserver.Options{WebDir: webDir(b), Version: "bench"})
			ctx := newBrowser(b)
			var rate float64
			var total time.Duration
			for b.Loop() {
				if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/train/here?epochs=1&workers=%d", srv.url, workers))); err != nil {
					b.Fatal(err)
				}
				waitFor(b, ctx, "the Train here page", `document.querySelector('#here-page[data-client="true"]') !== null`, time.Minute)
				start := time.Now()
				evaluate[bool](b, ctx, `(document.getElementById("start-training").click(), true)`)
				waitFor(b, ctx, "the training to end", `["done", "failed", "cancelled"].includes(document.getElementById("here-page").dataset.state)`, 10*time.Minute)
				total = time.Since(start)
				page := evaluate[map[string]string](b, ctx, `({...document.getElementById("here-page").dataset, error: document.getElementById("train-error")?.textContent || ""})`)
				if page["state"] != "done" {
					b.Fatalf("training ended %q: %s", page["state"], page["error"])
				}
				rate, _ = strconv.ParseFloat(page["imagesPerSecond"], 64)
			}
			b.ReportMetric(rate, "train-images/s")
			b.ReportMetric(total.Seconds(), "s/run")
			b.ReportMetric(0, "ns/op")
		})
	}
}
