package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// TestScalarKernelWorker: a browser without WebAssembly SIMD gets worker-scalar.wasm.
// Chromium has SIMD, so the page forces the choice (localStorage "ganomaly.kernel",
// which worker.js honours before its own probe); the page says which kernels run,
// and both give the native model's scores.
func TestScalarKernelWorker(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	ctx := newBrowser(t)
	digits := digitPNGs(t, 6)
	var batch []upload
	for i, d := range digits {
		batch = append(batch, file(fmt.Sprintf("digit-%d.png", i), "image/png", d))
	}
	native := nativeScores(t, batch)
	for _, k := range []struct{ forced, shown string }{{"", "SIMD"}, {"scalar", "scalar"}} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
			t.Fatal(err)
		}
		evaluate[bool](t, ctx, fmt.Sprintf(`(localStorage.setItem("ganomaly.kernel", %q), true)`, k.forced))
		if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the model", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, 2*time.Minute)
		status := evaluate[string](t, ctx, `document.getElementById("model-status").textContent`)
		if !strings.Contains(status, "("+k.shown+")") {
			t.Errorf("kernel %q: the status says %q, want it to name the %s kernels", k.forced, status, k.shown)
		}
		evaluate[int](t, ctx, dropScript(batch))
		waitFor(t, ctx, "the batch", fmt.Sprintf(`document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "%d"`, len(batch)), time.Minute)
		checkCards(t, evaluate[[]card](t, ctx, readCards), native)
		clearBatch(t, ctx)
	}
}

// TestCrashedWorkerIsReplaced: a kernel worker whose program exits in the middle of a
// drop, the way running out of memory ends it, is replaced. The files of its calls
// then in flight fail, and their cards say why; every other file of the drop is
// scored, and so is every file of the next drop. The test knob (localStorage
// "ganomaly.exitAfter", see web/worker.js) makes each first worker's program exit
// after its first call; the replacements do not get it.
func TestCrashedWorkerIsReplaced(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	workers := evaluate[int](t, ctx, `Math.max(1, Math.min(navigator.hardwareConcurrency, 4))`)
	// The first workers take up to 4 calls of 8 files each before their crash is
	// known (3 in flight, and the next one the answered call's goroutine posts):
	// 40 more are left to the replacements.
	n := workers*4*8 + 40
	digits := digitPNGs(t, n+10)
	var drop1, drop2 []upload
	for i, d := range digits {
		f := file(fmt.Sprintf("digit-%03d.png", i), "image/png", d)
		if i < n {
			drop1 = append(drop1, f)
		} else {
			drop2 = append(drop2, f)
		}
	}
	evaluate[bool](t, ctx, `(localStorage.setItem("ganomaly.exitAfter", "1"), true)`)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the model", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, 2*time.Minute)

	evaluate[int](t, ctx, dropScript(drop1))
	waitFor(t, ctx, "the first drop", fmt.Sprintf(`document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "%d"`, n), 2*time.Minute)
	// The page shows the first cards only (60); the bar counts them all.
	failed := evaluate[int](t, ctx, `+document.getElementById("batch-bar").dataset.failed`)
	// Each first worker answers one call and exits; the files of its calls then in
	// flight fail: the page keeps 3 calls of up to 8 files in flight per worker, and
	// the one that answered has posted the next by the time the crash is known.
	if maxFailed := workers * 3 * 8; failed == 0 || failed > maxFailed {
		t.Fatalf("%d of %d files failed with %d workers; want 1 to %d: did the workers' programs exit?", failed, n, workers, maxFailed)
	}
	if done := n - failed; done <= workers*8 {
		t.Fatalf("%d files scored: no more than the crashed workers' first calls, so nothing replaced them", done)
	}
	native := nativeScores(t, drop1)
	scored := map[string]*model.Result{}
	var shown []card
	var why string
	for _, c := range evaluate[[]card](t, ctx, readCards) {
		if c.State != "failed" {
			shown = append(shown, c)
			scored[c.File] = native[c.File]
			continue
		}
		why = c.Error
		if !strings.Contains(c.Error, "stopped") || !strings.Contains(c.Error, "out of memory?") {
			t.Errorf("%s: the card says %q; want it to say that the kernel worker stopped, and why it may have", c.File, c.Error)
		}
	}
	checkCards(t, shown, scored)
	t.Logf("first drop: %d of %d scored, %d failed with the crashed workers (%d workers); a card says %q", n-failed, n, failed, workers, why)

	clearBatch(t, ctx)
	evaluate[int](t, ctx, dropScript(drop2))
	waitFor(t, ctx, "the second drop", fmt.Sprintf(`document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "%d"`, len(drop2)), time.Minute)
	checkCards(t, evaluate[[]card](t, ctx, readCards), nativeScores(t, drop2))
	if status := evaluate[string](t, ctx, `document.getElementById("model-status").textContent`); strings.Contains(status, "no kernel worker") {
		t.Errorf("status %q after the replacements", status)
	}
}
