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

// BenchmarkScoreInBrowser drops 100 and then 1,000 MNIST test digits on the check
// page with the default model, in headless Chromium, and reports what the issue's
// targets are about: images/s from the drop to the last result, the main thread's
// long tasks (PerformanceObserver "longtask": count and the longest), how long a click
// during the batch takes to show (the sort button's label changing), the JS heap after
// the batch, and the first score after navigation, on a fresh profile and warm. make
// bench-browser runs it.
func BenchmarkScoreInBrowser(b *testing.B) {
	digits := digitPNGs(b, 1000)
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("digits%d", n), func(b *testing.B) {
			srv := startServer(b, "127.0.0.1:0", httpserver.Options{WebDir: webDir(b), Version: "bench"})
			ctx := newBrowser(b)
			files := make([]upload, n)
			for i := range files {
				files[i] = file(fmt.Sprintf("mnist-%04d.png", i), "image/png", digits[i%len(digits)])
			}
			var rate, longest, click, heapMB, fresh, warm float64
			var long int
			for b.Loop() {
				// The first score after navigation: fresh, then warm (a reload).
				first := func() float64 {
					start := time.Now()
					waitFor(b, ctx, "the app", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
					evaluate[int](b, ctx, dropScript(files[:1]))
					waitFor(b, ctx, "the first score", `document.querySelector('article.card[data-state="done"]') !== null`, time.Minute)
					return time.Since(start).Seconds()
				}
				if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
					b.Fatal(err)
				}
				fresh = first()
				evaluate[bool](b, ctx, `(document.getElementById("clear-button").click(), true)`)
				waitFor(b, ctx, "the kept results to go", `new Promise(ok => { const r = indexedDB.open("ganomaly", 1); r.onsuccess = () => { const c = r.result.transaction("results").objectStore("results").count(); c.onsuccess = () => ok(c.result === 0); }; })`, 10*time.Second)
				if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
					b.Fatal(err)
				}
				warm = first()
				evaluate[bool](b, ctx, `(document.getElementById("clear-button").click(), true)`)
				waitFor(b, ctx, "the model", `document.querySelector('#drop-zone[data-ready="true"]') !== null && document.querySelectorAll("article.card").length === 0`, time.Minute)

				// The files are made (test harness work, not the page's: a long task
				// of its own with 1,000 files) before the long tasks are watched.
				evaluate[int](b, ctx, stageFiles(files))
				evaluate[bool](b, ctx, `(window.__long = [], new PerformanceObserver(l => l.getEntries().forEach(e => window.__long.push(e.duration))).observe({type: "longtask"}), true)`)
				start := time.Now()
				evaluate[int](b, ctx, dropStaged("drop-zone"))
				// A click a fifth of the way through: how long until the page shows it.
				waitFor(b, ctx, "a fifth of the batch", fmt.Sprintf(`+document.getElementById("batch-bar")?.dataset.finished >= %d`, n/5), 5*time.Minute)
				click = evaluate[float64](b, ctx, `new Promise(ok => {
					const button = document.getElementById("sort-button"), before = button.textContent, t0 = performance.now();
					button.click();
					(function check() { if (document.getElementById("sort-button").textContent !== before) ok(performance.now() - t0); else requestAnimationFrame(check); })();
				})`, chromedp.EvalAwaitPromise)
				waitFor(b, ctx, "the batch", fmt.Sprintf(`document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "%d"`, n), 10*time.Minute)
				rate = float64(n) / time.Since(start).Seconds()
				stats := evaluate[map[string]float64](b, ctx, `({count: window.__long.length, longest: Math.max(0, ...window.__long), heap: performance.memory ? performance.memory.usedJSHeapSize : 0})`)
				long, longest, heapMB = int(stats["count"]), stats["longest"], stats["heap"]/1e6
				evaluate[bool](b, ctx, `(document.getElementById("clear-button").click(), true)`)
			}
			b.ReportMetric(rate, "images/s")
			b.ReportMetric(float64(long), "long-tasks")
			b.ReportMetric(longest, "longest-task-ms")
			b.ReportMetric(click, "click-ms")
			b.ReportMetric(heapMB, "js-heap-MB")
			b.ReportMetric(fresh, "first-score-fresh-s")
			b.ReportMetric(warm, "first-score-warm-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
