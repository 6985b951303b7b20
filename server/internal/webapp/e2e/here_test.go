package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// TestTrainInBrowser: after one visit, with the server stopped and the network cut,
// "Train here" trains a short run on two Web Workers from the MNIST pack the service
// worker cached; the model lands in the model picker; a digit scored with it in the
// page gets the score that the downloaded weights file gives natively
// (model.Detector, what ganomaly score runs).
func TestTrainInBrowser(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	ctx := newBrowser(t)
	downloads := t.TempDir()
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	evaluate[bool](t, ctx, `navigator.serviceWorker.ready.then(() => true)`, chromedp.EvalAwaitPromise)
	waitFor(t, ctx, "the MNIST pack in the cache", `caches.match("/web/data/mnist-pack.gz").then(r => !!r)`, time.Minute)
	srv.stop()
	goOffline(t, ctx)

	// 540 train normals of 16×16, width 8, batches of 32 on two workers, 2 epochs; for
	// the screenshot, a run of the default shape (32×32, width 16, batches of 64).
	query := "?class=2&epochs=2&width=8&size=16&max_train=600&max_test=400&batch=32&workers=2"
	if *updateScreenshot {
		query = "?class=2&epochs=3&workers=2&max_train=3000&max_test=1000"
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+"/train/here"+query)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the Train here page", `document.querySelector('#here-page[data-client="true"]') !== null`, time.Minute)
	start := time.Now()
	evaluate[bool](t, ctx, `(document.getElementById("start-training").click(), true)`)
	waitFor(t, ctx, "the training to end", `["done", "failed", "cancelled"].includes(document.getElementById("here-page").dataset.state)`, 5*time.Minute)
	page := evaluate[map[string]string](t, ctx, `({...document.getElementById("here-page").dataset, error: document.getElementById("train-error")?.textContent || "", step: document.getElementById("train-step")?.textContent || ""})`)
	if page["state"] != "done" {
		t.Fatalf("training in the browser ended %q: %s", page["state"], page["error"])
	}
	name := page["model"]
	t.Logf("figure: trained in the browser, offline, in %v: %s points, %s epochs, step %s, model %s", time.Since(start).Round(100*time.Millisecond), page["points"], page["epochs"], page["step"], name)
	if n := evaluate[string](t, ctx, `document.getElementById("train-samples")?.dataset.count || ""`); n != "6" {
		t.Errorf("the page shows %q reconstructions of validation digits, want 6", n)
	}
	if page["epochs"] == "0" || page["points"] == "0" || !strings.HasPrefix(name, "here-mnist-2-") {
		t.Errorf("page after training: %v", page)
	}

	// The screenshot: the finished run.
	evaluate[bool](t, ctx, `window.scrollTo(0, 0), true`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "screenshot-train-here.png")
	if *updateScreenshot {
		shot = filepath.Join(repoRoot(t), "docs", "screenshot-train-here.png")
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}

	evaluate[bool](t, ctx, `(document.getElementById("download-weights").click(), true)`)
	weightsPath := filepath.Join(downloads, name+".safetensors")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := os.Stat(weightsPath); err == nil && st.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(downloads)
			t.Fatalf("no %s downloaded (folder holds %v)", weightsPath, entries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // the download's last write
	raw0, err := os.ReadFile(weightsPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw0)
	version := api.ShortHash(hex.EncodeToString(sum[:]))

	// The model is in the picker, offline; a digit scored with it.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	waitFor(t, ctx, "the trained model in the picker", `[...document.querySelectorAll('#model-select option')].some(o => o.value === "`+name+`")`, time.Minute)
	// The picker takes a choice once the model in use is loaded.
	waitFor(t, ctx, "the default model", `document.querySelector('#model-status[data-status="ready"]') !== null`, time.Minute)
	evaluate[bool](t, ctx, `(() => { const s = document.getElementById("model-select"); s.value = "`+name+`"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	waitFor(t, ctx, "the trained model loaded", `document.querySelector('#model-status[data-status="ready"]') && document.getElementById("model-version")?.dataset.version === "`+version+`"`, time.Minute)
	digit := digitPNGs(t, 1)[0]
	evaluate[int](t, ctx, dropScript([]upload{file("digit-7.png", "image/png", digit)}))
	waitFor(t, ctx, "the digit's score", `document.querySelector('article.card[data-state="done"]') !== null`, time.Minute)
	cards := evaluate[[]card](t, ctx, readCards)
	raw, err := strconv.ParseFloat(cards[0].Raw, 64)
	if err != nil || cards[0].Model != name+"@"+version {
		t.Fatalf("card %+v", cards[0])
	}

	f, err := model.ReadWeightsFile(weightsPath)
	if err != nil {
		t.Fatal(err)
	}
	det, err := model.NewDetector(f)
	if err != nil {
		t.Fatal(err)
	}
	x, err := imageio.Load(digit, f.Config.ImageSize, f.Config.Channels)
	if err != nil {
		t.Fatal(err)
	}
	wants, err := det.Score(nil, x, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := wants[0]
	t.Logf("digit 7: raw score in the browser %.9g, from the downloaded weights natively %.9g; model trained offline: %s (%s)",
		raw, want.Raw, f.Provenance.Trainer, f.Calibration.Method)
	if d := raw - want.Raw; d > tolerance*want.Raw || -d > tolerance*want.Raw {
		t.Errorf("browser raw score %.9g, native %.9g", raw, want.Raw)
	}
	if !strings.Contains(f.Provenance.Trainer, "go engine") || f.Config.Latent != 100 || f.Provenance.AnomalyClass != "2" {
		t.Errorf("downloaded weights: trainer %q, config %+v", f.Provenance.Trainer, f.Config)
	}
}

// TestTrainInBrowserResumes pauses a training after its first epoch and reloads the
// page, as a closed tab would lose the workers: the page offers to resume, and the run
// continues from the checkpoint of epoch 1 to a model of three epochs.
func TestTrainInBrowserResumes(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	ctx := newBrowser(t)
	const query = "?class=2&epochs=3&width=8&size=16&max_train=1200&max_test=400&batch=32&workers=2"
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+"/train/here"+query)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the Train here page", `document.querySelector('#here-page[data-client="true"]') !== null`, time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("start-training").click(), true)`)
	waitFor(t, ctx, "the first epoch", `+document.getElementById("here-page").dataset.epochs >= 1`, 2*time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("pause-training").click(), true)`)
	waitFor(t, ctx, "the pause", `document.getElementById("here-page").dataset.state === "paused"`, 10*time.Second)
	// The step under way when the pause came finishes; then nothing moves.
	time.Sleep(time.Second)
	paused := evaluate[string](t, ctx, `document.getElementById("train-step").textContent`)
	time.Sleep(time.Second)
	if again := evaluate[string](t, ctx, `document.getElementById("train-step").textContent`); again != paused {
		t.Errorf("paused at step %s, a second later at %s", paused, again)
	}

	// Leaving the page within the app ends the workers as a closed tab would: back
	// on it, the run is offered for resuming.
	evaluate[bool](t, ctx, `(document.getElementById("nav-check").click(), true)`)
	waitFor(t, ctx, "the check page", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("nav-train-here").click(), true)`)
	waitFor(t, ctx, "the offer to resume, in the app", `document.getElementById("resume-stored") !== null && document.getElementById("here-page").dataset.state === "idle"`, time.Minute)

	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the offer to resume", `document.getElementById("resume-stored") !== null`, time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("resume-stored").click(), true)`)
	waitFor(t, ctx, "the resumed training to end", `["done", "failed", "cancelled"].includes(document.getElementById("here-page").dataset.state)`, 3*time.Minute)
	page := evaluate[map[string]string](t, ctx, `({...document.getElementById("here-page").dataset, error: document.getElementById("train-error")?.textContent || ""})`)
	if page["state"] != "done" {
		t.Fatalf("the resumed training ended %q: %s", page["state"], page["error"])
	}
	// The resumed run trained epochs 2 and 3 only, and its model is of three epochs.
	if page["epochs"] != "2" {
		t.Errorf("the resumed run showed %s epochs, want epochs 2 and 3", page["epochs"])
	}
	card := evaluate[string](t, ctx, `localStorage.getItem("ganomaly.localModels")`)
	if !strings.Contains(card, `"epochs":3`) {
		t.Errorf("the stored model's provenance does not say 3 epochs: %.300s", card)
	}
	t.Logf("paused at step %s, resumed after a reload, finished: %v", paused, page)
}

// TestTrainInBrowserOnOwnImages trains on one's own images, as someone with a folder
// of their own would: MNIST test digits as PNG files picked from disk, the 2s as known
// anomalies dropped on the page, plus a broken image and a text file among the normal
// ones, which are skipped and named on the page.
func TestTrainInBrowserOnOwnImages(t *testing.T) {
	imgs, labels := mnistTest(t)
	files := t.TempDir()
	var normal []string
	var anomalous []upload // dropped, where the normal ones are picked
	for i := 0; len(normal) < 300 || len(anomalous) < 40; i++ {
		var b bytes.Buffer
		if err := png.Encode(&b, imgs[i]); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(files, fmt.Sprintf("digit-%04d.png", i))
		switch {
		case labels[i] == 2 && len(anomalous) < 40:
			anomalous = append(anomalous, file(filepath.Base(p), "image/png", b.Bytes()))
		case labels[i] != 2 && len(normal) < 300:
			normal = append(normal, p)
			os.WriteFile(p, b.Bytes(), 0o644)
		}
	}
	broken, notes := filepath.Join(files, "broken.png"), filepath.Join(files, "readme.txt")
	os.WriteFile(broken, []byte("not a PNG at all"), 0o644)
	os.WriteFile(notes, []byte("these are my digits"), 0o644)
	normal = append(normal, broken, notes)

	modelsDir := t.TempDir()
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e", ModelsDir: modelsDir, Token: trainToken, Device: "cpu"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+"/train/here?source=images&epochs=2&width=8&size=16&batch=32&workers=2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the Train here page", `document.querySelector('#here-page[data-client="true"]') !== null && document.getElementById("here-normal") !== null`, time.Minute)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("here-normal"), normal)); err != nil {
		t.Fatal(err)
	}
	evaluate[int](t, ctx, dropOn("here-anomalous-zone", anomalous))
	if n := evaluate[int](t, ctx, `document.getElementById("here-anomalous").files.length`); n != len(anomalous) {
		t.Fatalf("%d anomalies dropped, the input holds %d", len(anomalous), n)
	}
	evaluate[bool](t, ctx, `(document.getElementById("start-training").click(), true)`)
	waitFor(t, ctx, "the training to end", `["done", "failed", "cancelled"].includes(document.getElementById("here-page").dataset.state)`, 3*time.Minute)
	page := evaluate[map[string]string](t, ctx, `({...document.getElementById("here-page").dataset, error: document.getElementById("train-error")?.textContent || "", data: document.getElementById("here-data")?.textContent || ""})`)
	if page["state"] != "done" {
		t.Fatalf("training on one's own images ended %q: %s", page["state"], page["error"])
	}
	t.Logf("own images: %s; model %s", page["data"], page["model"])
	if !strings.Contains(page["data"], "broken.png") || !strings.Contains(page["data"], "readme.txt") {
		t.Errorf("the page does not name the skipped files: %q", page["data"])
	}
	if !strings.HasPrefix(page["model"], "here-images-") {
		t.Errorf("model %q", page["model"])
	}
	stored := evaluate[string](t, ctx, `localStorage.getItem("ganomaly.localModels")`)
	if !strings.Contains(stored, `"dataset":"folder:dropped-images"`) {
		t.Errorf("the stored model's provenance: %.300s", stored)
	}
	// The run watched a fifth of the anomalies: the page drew how they separate.
	if auc := evaluate[string](t, ctx, `document.getElementById("train-watch")?.dataset.auc || ""`); auc == "" {
		t.Error("no chart of the watched anomalies after training")
	} else {
		t.Logf("validation normals vs watched anomalies after the last epoch: AUC %s", auc)
	}

	// Published on the server with the token: the server lists it, card and all.
	evaluate[bool](t, ctx, setFields(map[string]any{"publish-token": "wrong-" + trainToken}))
	evaluate[bool](t, ctx, `(document.getElementById("publish-model").click(), true)`)
	waitFor(t, ctx, "the refusal of a wrong token", `document.getElementById("publish-error") !== null`, 30*time.Second)
	if msg := evaluate[string](t, ctx, `document.getElementById("publish-error").textContent`); !strings.Contains(msg, "wrong token") {
		t.Errorf("a wrong token: %q", msg)
	}
	evaluate[bool](t, ctx, setFields(map[string]any{"publish-token": trainToken}))
	evaluate[bool](t, ctx, `(document.getElementById("publish-model").click(), true)`)
	// The wrong token's refusal goes first; it also says "Not published", and read
	// before the page re-rendered, it passed for this try's answer.
	waitFor(t, ctx, "the refusal to go", `document.getElementById("publish-error") === null`, 30*time.Second)
	waitFor(t, ctx, "the model published on the server", `document.getElementById("here-published") !== null || (document.getElementById("publish-error")?.textContent || "").includes("Not published")`, 30*time.Second)
	if msg := evaluate[string](t, ctx, `document.getElementById("publish-error")?.textContent || ""`); msg != "" {
		t.Fatalf("publishing with the right token: %s", msg)
	}
	var list api.ModelList
	resp, err := http.Get(srv.url + api.ModelsPath)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Models) != 2 || list.Models[1].Name != page["model"] || list.Models[1].CardURL == "" {
		t.Errorf("the server lists %+v after publishing %s", list.Models, page["model"])
	}

	// Normal images alone, no known anomalies: trained and calibrated on them, no test.
	// Paused after its first epoch and the page reloaded, it resumes from the images
	// and the checkpoint kept on the device.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+"/train/here?source=images&epochs=6&width=8&size=16&batch=32&workers=2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the Train here page again", `document.querySelector('#here-page[data-client="true"]') !== null && document.getElementById("here-normal") !== null`, time.Minute)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("here-normal"), normal)); err != nil {
		t.Fatal(err)
	}
	evaluate[bool](t, ctx, `(document.getElementById("start-training").click(), true)`)
	waitFor(t, ctx, "the first epoch on normals alone", `+document.getElementById("here-page").dataset.epochs >= 1`, 2*time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("pause-training").click(), true)`)
	waitFor(t, ctx, "the pause", `document.getElementById("here-page").dataset.state === "paused"`, 10*time.Second)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the offer to resume the run on one's own images", `document.getElementById("resume-stored") !== null`, time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("resume-stored").click(), true)`)
	waitFor(t, ctx, "the training on normals alone to end", `["done", "failed", "cancelled"].includes(document.getElementById("here-page").dataset.state)`, 3*time.Minute)
	page = evaluate[map[string]string](t, ctx, `({...document.getElementById("here-page").dataset, error: document.getElementById("train-error")?.textContent || "", done: document.getElementById("here-done")?.textContent || ""})`)
	if page["state"] != "done" {
		t.Fatalf("training on normal images alone ended %q: %s", page["state"], page["error"])
	}
	t.Logf("normal images alone: %s", page["done"])
	if !strings.Contains(page["done"], "no known anomalies") || strings.Contains(page["done"], "test AUC") {
		t.Errorf("the finished run on normals alone says: %q", page["done"])
	}
	var models []api.Model
	if err := json.Unmarshal([]byte(evaluate[string](t, ctx, `localStorage.getItem("ganomaly.localModels")`)), &models); err != nil || len(models) < 2 {
		t.Fatalf("stored models: %v", err)
	}
	if m := models[0]; !m.Calibration.Calibrated() || m.AUC != 0 || m.AnomalyClass != "" || m.Provenance.Epochs != 6 || m.Dataset != "folder:dropped-images" {
		t.Errorf("the model trained on normals alone and resumed: calibration %+v, AUC %v, class %q, %d epochs, data %q",
			m.Calibration, m.AUC, m.AnomalyClass, m.Provenance.Epochs, m.Dataset)
	}
}
