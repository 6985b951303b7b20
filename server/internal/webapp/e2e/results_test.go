package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// TestResultsSurviveAReload: a scored batch is kept on the device (IndexedDB): after a
// reload, and after one offline, the same cards come back with the same figures and
// their images, and the teaching view still explains one; Clear forgets them, there
// and after the next reload.
func TestResultsSurviveAReload(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, 2*time.Minute)
	digits := digitPNGs(t, 3)
	batch := []upload{file("a.png", "image/png", digits[0]), file("b.png", "image/png", digits[1]), file("c.png", "image/png", digits[2]),
		file("notes.png", "image/png", []byte("not an image"))}
	evaluate[int](t, ctx, dropScript(batch))
	waitFor(t, ctx, "the batch", `document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "4"`, time.Minute)
	before := evaluate[[]card](t, ctx, readCards)

	images := `[...document.querySelectorAll("article.card img")].filter(i => i.complete && i.naturalWidth > 0).length`
	same := func(what string) {
		t.Helper()
		waitFor(t, ctx, what, `document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "4"`, time.Minute)
		after := evaluate[[]card](t, ctx, readCards)
		if len(after) != len(before) {
			t.Fatalf("%s: %d cards, want %d", what, len(after), len(before))
		}
		for i := range before {
			if after[i] != before[i] {
				t.Errorf("%s: card %d is %+v, was %+v", what, i, after[i], before[i])
			}
		}
		waitFor(t, ctx, what+": the images", images+` === 9`, 30*time.Second)
		if n := evaluate[string](t, ctx, `document.getElementById("batch-restored")?.textContent || ""`); n == "" {
			t.Errorf("%s: the page does not say the results were kept", what)
		}
	}
	// Results are written to the device a moment after they are shown.
	waitFor(t, ctx, "the results kept on the device", `new Promise(ok => { const r = indexedDB.open("ganomaly", 1); r.onsuccess = () => { const c = r.result.transaction("results").objectStore("results").count(); c.onsuccess = () => ok(c.result === 4); c.onerror = () => ok(false); }; r.onerror = () => ok(false); })`, 10*time.Second)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	same("after a reload")

	// Offline too, and the teaching view explains a kept result.
	srv.stop()
	goOffline(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	same("after a reload offline")
	evaluate[bool](t, ctx, `(document.querySelector('article.card[data-file="b.png"] a.explain').click(), true)`)
	waitFor(t, ctx, "the teaching view of a kept result", `document.querySelector('#teach[data-state="ready"]') !== null && document.getElementById("teach-raw") !== null`, time.Minute)
	if raw, want := evaluate[string](t, ctx, `document.getElementById("teach-raw").dataset.value`), before[1].Raw; raw != want {
		t.Errorf("the teaching view of b.png says raw %s, its card %s", raw, want)
	}

	// Clear forgets them, here and on the device.
	evaluate[bool](t, ctx, `(document.getElementById("nav-check").click(), true)`)
	waitFor(t, ctx, "the check page", `document.getElementById("clear-button") !== null`, time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("clear-button").click(), true)`)
	waitFor(t, ctx, "the cleared batch", `document.querySelectorAll("article.card").length === 0`, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // the store's clear
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app again", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	time.Sleep(time.Second)
	if n := evaluate[int](t, ctx, `document.querySelectorAll("article.card").length`); n != 0 {
		t.Errorf("%d cards came back after Clear and a reload", n)
	}
}
