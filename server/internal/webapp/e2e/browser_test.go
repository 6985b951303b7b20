package e2e

import (
	"bytes"
	"context"
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
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

// tolerance on the score and the raw score between the browser and the native model.
const tolerance = 1e-4

// TestBrowser drives the real app in headless Chromium against the real server:
// drop a digit, a photo and a broken file; compare scores with the native model; score
// a 100-image batch; reload offline (server stopped, network emulated offline) and
// score again from the caches. It logs the figures the README reports.
// hostileName is a file name that is markup: cards must show it as text.
const hostileName = `<img src=x onerror="window.__xss=1">notes.png`

func TestBrowser(t *testing.T) {
	ctx := newBrowser(t)
	web := webDir(t)
	for _, name := range []string{"app.wasm", "worker.wasm"} {
		raw, _ := os.Stat(filepath.Join(web, name))
		gz, _ := os.Stat(filepath.Join(web, name+".gz"))
		t.Logf("figure: %s %.2f MB raw, %.2f MB gzipped", name, mb(raw.Size()), mb(gz.Size()))
	}
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: web, Version: "e2e"})

	digits := digitPNGs(t, 100)
	batch := []upload{
		file("digit-7.png", "image/png", digits[0]),
		file("photo.jpg", "image/jpeg", photoJPEG(t)),
		// Not an image, and a name that would be markup if a card did not escape it.
		file(hostileName, "image/png", []byte("these are notes, not an image")),
	}
	native := nativeScores(t, batch)

	// Online, cold: a fresh profile, nothing cached. The files are dropped as soon as
	// the app runs, before the model is ready: they wait in the queue.
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app to start", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	appStarted := time.Since(start)
	// Until the model can score, the zone says it is getting ready, and what it does.
	if z := evaluate[map[string]string](t, ctx, `({ready: document.getElementById("drop-zone").dataset.ready, text: document.getElementById("drop-zone").textContent})`); z["ready"] == "false" {
		if !strings.Contains(z["text"], "Getting ready") {
			t.Errorf("the zone is not ready and does not say so: %q", z["text"])
		}
		t.Logf("before the model is ready, the zone says: %q", z["text"])
	}
	evaluate[int](t, ctx, dropScript(batch[:1]))
	waitFor(t, ctx, "the first score", `document.querySelector('article.card[data-state="done"]') !== null`, 2*time.Minute)
	t.Logf("figure: online, cold: app running after %v, first score %v after navigation", appStarted.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	evaluate[int](t, ctx, dropScript(batch[1:]))
	waitFor(t, ctx, "the batch", `document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "3"`, time.Minute)
	checkCards(t, evaluate[[]card](t, ctx, readCards), native)
	if injected := evaluate[bool](t, ctx, `window.__xss === 1 || document.querySelector('img[src="x"]') !== null`); injected {
		t.Errorf("the file name %q became markup on the page", hostileName)
	}
	if shown := evaluate[string](t, ctx, `document.querySelector('article.card.failed .file-name')?.textContent`); shown != hostileName {
		t.Errorf("the failed file's card shows %q, want its name %q as text", shown, hostileName)
	}
	// A colour photo given to a grey digit model says so beside its score; a digit does not.
	for _, c := range evaluate[[]card](t, ctx, readCards) {
		switch c.File {
		case "photo.jpg":
			if !strings.Contains(c.Note, "colour image made grey") || !strings.Contains(c.Note, "MNIST digits") {
				t.Errorf("photo.jpg: note %q, want one saying it was made grey and what the model knows", c.Note)
			}
		case "digit-7.png":
			if c.Note != "" {
				t.Errorf("a digit got a note: %q", c.Note)
			}
		}
	}

	// The service worker has cached the app, the kernel worker and the default
	// weights; the page says the model is cached.
	waitFor(t, ctx, "the service worker", `navigator.serviceWorker.controller !== null || (async () => { await navigator.serviceWorker.ready; return true })()`, time.Minute)
	evaluate[bool](t, ctx, `navigator.serviceWorker.ready.then(() => true)`, chromedp.EvalAwaitPromise)
	waitFor(t, ctx, "the cached weights", `caches.keys().then(async keys => { for (const k of keys) { const c = await caches.open(k); for (const r of await c.keys()) if (r.url.includes("/weights/default.safetensors?v=")) return true } return false })`, time.Minute)

	// A batch of 100 digits: throughput, with the page still responsive.
	evaluate[bool](t, ctx, `document.getElementById("clear-button").click(), true`)
	var hundred []upload
	for i, d := range digits {
		hundred = append(hundred, file(fmt.Sprintf("mnist-%03d.png", i), "image/png", d))
	}
	workers := evaluate[string](t, ctx, `document.getElementById("model-status").textContent`)
	start = time.Now()
	evaluate[int](t, ctx, dropScript(hundred))
	// While the batch runs, the page's main thread must keep answering: measure the
	// longest gap between animation frames.
	evaluate[bool](t, ctx, `(window.__gaps = [], (function tick(last) { requestAnimationFrame(now => { window.__gaps.push(now - last); if (document.getElementById("batch-bar")?.dataset.finished !== "100") tick(now) }) })(performance.now()), true)`)
	waitFor(t, ctx, "100 images", `document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "100"`, 5*time.Minute)
	elapsed := time.Since(start)
	longest := evaluate[float64](t, ctx, `Math.max(...window.__gaps)`)
	t.Logf("figure: 100-image drop scored in %v: %.1f images/s (%s); longest frame gap while scoring %.0f ms",
		elapsed.Round(time.Millisecond), 100/elapsed.Seconds(), workers, longest)
	if longest > 1000 {
		t.Errorf("the page froze for %.0f ms during the batch", longest)
	}
	// A large batch shows its cards a page at a time: 60, then "Show 40 more".
	if n := evaluate[int](t, ctx, `document.querySelectorAll("article.card").length`); n != 60 {
		t.Errorf("%d cards shown of a 100-image batch, want the first 60", n)
	}
	evaluate[bool](t, ctx, `(document.getElementById("show-more").click(), true)`)
	waitFor(t, ctx, "every card", `document.querySelectorAll("article.card").length === 100 && document.getElementById("show-more") === null`, 30*time.Second)
	waitFor(t, ctx, "every card's three images", cardImagesShown, 30*time.Second)
	// Every card of the batch against native scoring of the same file.
	checkCards(t, evaluate[[]card](t, ctx, readCards), nativeScores(t, hundred))

	// The screenshot: a small mixed batch, sorted by score.
	evaluate[bool](t, ctx, `document.getElementById("clear-button").click(), true`)
	shot := append([]upload{}, batch...)
	for i := 1; i <= 5; i++ {
		shot = append(shot, file(fmt.Sprintf("mnist-%03d.png", i), "image/png", digits[i]))
	}
	evaluate[int](t, ctx, dropScript(shot))
	waitFor(t, ctx, "the screenshot batch", fmt.Sprintf(`document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "%d"`, len(shot)), time.Minute)
	evaluate[bool](t, ctx, `document.getElementById("sort-button").click(), true`)
	time.Sleep(300 * time.Millisecond) // let the re-render settle
	waitFor(t, ctx, "the sorted cards' images", cardImagesShown, 30*time.Second)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "screenshot-batch.png")
	if *updateScreenshot {
		path = filepath.Join(repoRoot(t), "docs", "screenshot-batch.png")
		os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// Export: the CSV lists the batch in the order shown (by score), failures last.
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	evaluate[bool](t, ctx, `document.getElementById("export-button").click(), true`)
	checkCSV(t, filepath.Join(downloads, "ganomaly-batch.csv"), len(shot))

	// Offline: stop the server and cut the network, then reload. Everything must come
	// from the service worker's cache and the app's weights cache. (The batch is
	// cleared first: kept results would come back, TestResultsSurviveAReload's case.)
	clearBatch(t, ctx)
	srv.stop()
	goOffline(t, ctx)
	start = time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatalf("reloading offline: %v", err)
	}
	waitFor(t, ctx, "the app to start offline", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	evaluate[int](t, ctx, dropScript(batch[:1]))
	waitFor(t, ctx, "the first score offline", `document.querySelector('article.card[data-state="done"]') !== null`, time.Minute)
	t.Logf("figure: offline, warm: first score %v after navigation", time.Since(start).Round(time.Millisecond))
	evaluate[int](t, ctx, dropScript(batch[1:]))
	waitFor(t, ctx, "the batch offline", `document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "3"`, time.Minute)
	checkCards(t, evaluate[[]card](t, ctx, readCards), native)
	if online := evaluate[string](t, ctx, `document.getElementById("net-status").dataset.online`); online != "false" {
		t.Errorf("offline, the page says online=%s", online)
	}
	if evaluate[bool](t, ctx, `document.getElementById("model-cached") !== null`) == false {
		t.Errorf("offline, the page does not say the model is cached")
	}
}

// checkCSV waits for the exported batch and checks its rows.
func checkCSV(t *testing.T, path string, rows int) {
	t.Helper()
	var data []byte
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			data = b
			break
		}
	}
	if data == nil {
		t.Fatalf("the CSV export did not arrive at %s", path)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("CSV export: %v\n%s", err, data)
	}
	if len(recs) != rows+1 || strings.Join(recs[0], ",") != "file,bytes,status,score,raw_score,threshold,verdict,model,model_version,error" {
		t.Fatalf("CSV export has %d rows, header %v:\n%s", len(recs), recs[0], data)
	}
	prev := math.Inf(1)
	for i, r := range recs[1:] {
		switch r[2] {
		case "scored":
			score, _ := strconv.ParseFloat(r[3], 64)
			if score > prev {
				t.Errorf("CSV row %d: score %g after %g, want descending", i+1, score, prev)
			}
			prev = score
		case "failed":
			if i != rows-1 || r[9] == "" {
				t.Errorf("CSV row %d: failed row not last or without error: %v", i+1, r)
			}
		default:
			t.Errorf("CSV row %d: status %q", i+1, r[2])
		}
	}
	t.Logf("CSV export: %d rows, first %v", len(recs)-1, recs[1])
}

// nativeScores computes, with package model and imageio directly, what the browser
// must show for each file.
func nativeScores(t *testing.T, files []upload) map[string]*model.Result {
	t.Helper()
	data, _ := weights.Default()
	d, err := model.LoadDetector(data)
	if err != nil {
		t.Fatal(err)
	}
	cfg := d.Config()
	out := map[string]*model.Result{}
	for _, f := range files {
		x, err := imageio.Load(f.data, cfg.ImageSize, cfg.Channels)
		if err != nil {
			out[f.Name] = nil // the browser must show an error card
			continue
		}
		rs, err := d.Score(nil, x, 1)
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = &rs[0]
	}
	return out
}

func checkCards(t *testing.T, cards []card, native map[string]*model.Result) {
	t.Helper()
	if len(cards) != len(native) {
		t.Fatalf("%d cards, want %d: %+v", len(cards), len(native), cards)
	}
	for _, c := range cards {
		want, ok := native[c.File]
		if !ok {
			t.Errorf("unexpected card %q", c.File)
			continue
		}
		if want == nil {
			if c.State != "failed" || c.Error == "" {
				t.Errorf("%s: state %q, error %q; want a failed card that says why", c.File, c.State, c.Error)
			} else if strings.Contains(c.Error, "imageio") {
				t.Errorf("%s: the card says %q: words for programmers, not for the person who dropped it", c.File, c.Error)
			} else {
				t.Logf("%s: failed as expected: %s", c.File, c.Error)
			}
			continue
		}
		score, err1 := strconv.ParseFloat(c.Score, 64)
		raw, err2 := strconv.ParseFloat(c.Raw, 64)
		if c.State != "done" || err1 != nil || err2 != nil {
			t.Errorf("%s: state %q, score %q, raw %q (%s)", c.File, c.State, c.Score, c.Raw, c.Error)
			continue
		}
		dScore, dRaw := math.Abs(score-want.Score), math.Abs(raw-want.Raw)
		t.Logf("%s: browser score %.6f raw %.9g %s; native score %.6f raw %.9g; |Δscore| %.2g |Δraw| %.2g (relative %.2g)",
			c.File, score, raw, c.Verdict, want.Score, want.Raw, dScore, dRaw, dRaw/math.Max(want.Raw, 1e-30))
		if dScore > tolerance || dRaw > tolerance || dRaw > tolerance*math.Abs(want.Raw) {
			t.Errorf("%s: browser and native differ by more than %g", c.File, tolerance)
		}
		if wantVerdict := map[bool]string{true: "anomalous", false: "normal"}[want.Anomalous]; c.Verdict != wantVerdict {
			t.Errorf("%s: verdict %s, native %s", c.File, c.Verdict, wantVerdict)
		}
	}
}

// logConsole copies the page's console errors and uncaught exceptions to the test
// log, which is where a failing browser test's cause usually is.
func logConsole(t testing.TB, ctx context.Context) {
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeWarning && os.Getenv("GANOMALY_E2E_CONSOLE") == "" {
				continue
			}
			var parts []string
			for _, a := range ev.Args {
				if a.Value != nil {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			t.Logf("browser console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			t.Logf("browser exception: %s (%s:%d)", msg, d.URL, d.LineNumber)
		}
	}()
}

func mb(n int64) float64 { return float64(n) / 1e6 }
