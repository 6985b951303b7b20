package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
