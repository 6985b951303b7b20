package e2e

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/model"
	modelcard "github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// TestModelPickerAndUpdate picks a published model (not the default), checks its
// scores, then deploys a new app version: the open page offers a reload, the reload
// runs the new version, and the picked model's weights survive the update in the
// app's weights cache (the service worker deletes the old app cache only).
func TestModelPickerAndUpdate(t *testing.T) {
	ctx := newBrowser(t)
	web := webDir(t)

	// A small published model: 16×16, so it differs from the default in shape too.
	models := t.TempDir()
	cfg := model.Config{ImageSize: 16, Channels: 1, Latent: 16, Width: 8}
	wf := &model.WeightsFile{
		Config:      cfg,
		Calibration: model.Calibration{Score: model.ScoreMSE, Min: 0, Max: 0.01, Threshold: 0.005, Method: "test"},
		Provenance:  model.Provenance{Dataset: "mnist", AnomalyClass: "7", TestAUC: 0.5, Seed: 9},
		Tensors:     model.InitTensors(cfg.Generator().Params(), rand.New(rand.NewPCG(9, 9))),
	}
	if err := wf.WriteFile(filepath.Join(models, "tiny.safetensors")); err != nil {
		t.Fatal(err)
	}
	tinyCard, _ := json.Marshal(map[string]any{"format": modelcard.Format, "format_version": modelcard.FormatVersion, "title": "tiny test model", "config": cfg})
	os.WriteFile(filepath.Join(models, "tiny.json"), tinyCard, 0o644)

	srvA := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: web, ModelsDir: models, Version: "A"})
	if err := chromedp.Do(ctx, chromedp.Navigate(srvA.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the default model", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, 2*time.Minute)
	waitFor(t, ctx, "the model list", `document.querySelectorAll('#model-select option').length === 2`, time.Minute)
	evaluate[bool](t, ctx, `(() => { const s = document.getElementById("model-select"); s.value = "tiny"; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`)
	waitFor(t, ctx, "the tiny model", `document.getElementById("model-version")?.dataset.version && document.querySelector('#model-status[data-status="ready"]') && document.querySelector("#model-select").value === "tiny"`, time.Minute)

	// This time through the file picker.
	digit := digitPNGs(t, 1)[0]
	digitPath := filepath.Join(t.TempDir(), "digit.png")
	os.WriteFile(digitPath, digit, 0o644)
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{digitPath})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the score", `document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "1"`, time.Minute)
	d, err := model.NewDetector(wf)
	if err != nil {
		t.Fatal(err)
	}
	x, err := imageio.Load(digit, cfg.ImageSize, cfg.Channels)
	if err != nil {
		t.Fatal(err)
	}
	wants, err := d.Score(nil, x, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := wants[0]
	checkCards(t, evaluate[[]card](t, ctx, readCards), map[string]*model.Result{"digit.png": &want})
	if c := evaluate[[]card](t, ctx, readCards); len(c) == 1 && !strings.HasPrefix(c[0].Model, "tiny@") {
		t.Errorf("card scored by %q, want tiny", c[0].Model)
	}
	weightsCached := `caches.open("ganomaly-weights-v1").then(c => c.keys()).then(ks => ks.some(r => r.url.includes("/weights/tiny.safetensors?v=")))`
	if !evaluate[bool](t, ctx, weightsCached, chromedp.EvalAwaitPromise) {
		t.Fatal("the picked model's weights are not in the app's weights cache")
	}

	// Reload once so that the service worker controls the page: go-app announces an
	// update only to a controlled page.
	evaluate[bool](t, ctx, `navigator.serviceWorker.ready.then(() => true)`, chromedp.EvalAwaitPromise)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "a controlled page", `navigator.serviceWorker.controller !== null && document.querySelector('#drop-zone[data-ready="true"]') !== null`, time.Minute)
	if got := evaluate[string](t, ctx, `document.getElementById("model-select").value`); got != "tiny" {
		t.Errorf("after a reload the picker shows %q, want the stored choice tiny", got)
	}

	// Deploy version B: same address, app.css changed.
	webB := t.TempDir()
	entries, _ := os.ReadDir(web)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(web, e.Name()))
		if e.Name() == "app.css" {
			b = append(b, "\n/* version B */\n"...)
		}
		os.WriteFile(filepath.Join(webB, e.Name()), b, 0o644)
	}
	versionA := srvA.srv.AppVersion()
	srvA.stop()
	srvB := startServer(t, srvA.addr, httpserver.Options{WebDir: webB, ModelsDir: models, Version: "B"})
	versionB := srvB.srv.AppVersion()
	if versionA == versionB {
		t.Fatal("changing app.css did not change the app version")
	}
	evaluate[bool](t, ctx, `navigator.serviceWorker.getRegistration().then(r => r.update()).then(() => true)`, chromedp.EvalAwaitPromise)
	waitFor(t, ctx, "the update banner", `document.getElementById("update-banner") !== null`, time.Minute)
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Evaluate[bool](`document.getElementById("reload-button").click(), true`))); err != nil {
		t.Fatalf("reloading through the banner: %v", err)
	}
	waitFor(t, ctx, "the new version", `document.querySelector('#drop-zone[data-ready="true"]') !== null && document.getElementById("update-banner") === null`, time.Minute)
	keys := evaluate[[]string](t, ctx, `caches.keys()`, chromedp.EvalAwaitPromise)
	t.Logf("caches after the update: %v", keys)
	if !contains(keys, "app-"+versionB) || contains(keys, "app-"+versionA) || !contains(keys, "ganomaly-weights-v1") {
		t.Errorf("caches %v: want app-%s and ganomaly-weights-v1, without app-%s", keys, versionB, versionA)
	}
	if !evaluate[bool](t, ctx, weightsCached, chromedp.EvalAwaitPromise) {
		t.Error("the picked model's weights did not survive the update")
	}
	if status := evaluate[string](t, ctx, `document.getElementById("model-status").textContent`); !strings.Contains(status, "cache") {
		t.Errorf("after the update the model was not loaded from the cache: %q", status)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
