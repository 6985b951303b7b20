package e2e

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

// TestBatchSurvivesNavigation drops two digits, opens the teaching view of one, and
// comes back, by the browser's Back button and by the header's link: both cards must
// be there with the same scores, without the model being loaded again. Then a batch
// still scoring when the user leaves for the training dashboard must have finished on
// return, and Clear must still clear.
func TestBatchSurvivesNavigation(t *testing.T) {
	ctx := newBrowser(t)
	web := webDir(t)
	data, _ := weights.Default()
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: web, Version: "nav", DefaultWeights: data})

	digits := digitPNGs(t, 22)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, 2*time.Minute)
	evaluate[int](t, ctx, dropScript([]upload{file("one.png", "image/png", digits[0]), file("two.png", "image/png", digits[1])}))
	waitFor(t, ctx, "the batch", `document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "2"`, time.Minute)
	before := evaluate[[]card](t, ctx, readCards)
	if len(before) != 2 || before[0].State != "done" || before[1].State != "done" {
		t.Fatalf("cards before leaving: %+v", before)
	}
	status := evaluate[string](t, ctx, `document.getElementById("model-status").textContent`)

	openTeach := func() {
		t.Helper()
		evaluate[bool](t, ctx, `document.querySelector('article.card[data-file="two.png"] a.explain').click(), true`)
		waitFor(t, ctx, "the teaching view", `location.pathname === "/teach" && document.querySelector('#teach[data-state="ready"]') !== null`, time.Minute)
	}
	checkBack := func(how string) {
		t.Helper()
		waitFor(t, ctx, "the check page after "+how, `location.pathname === "/" && document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "2"`, 30*time.Second)
		after := evaluate[[]card](t, ctx, readCards)
		if !reflect.DeepEqual(after, before) {
			t.Errorf("after %s, cards %+v; before %+v", how, after, before)
		}
		if s := evaluate[string](t, ctx, `document.getElementById("model-status").textContent`); s != status {
			t.Errorf("after %s, the model status is %q, was %q (loaded again?)", how, s, status)
		}
		if n := evaluate[int](t, ctx, `[...document.querySelectorAll("article.card img")].filter(i => i.complete && i.naturalWidth > 0).length`); n != 6 {
			t.Errorf("after %s, %d of the cards' 6 images show", how, n)
		}
	}

	start := time.Now()
	openTeach()
	chromedp.Run(ctx, chromedp.Evaluate[bool](`history.back(), true`))
	checkBack("history back")
	t.Logf("teaching view and Back in %v", time.Since(start).Round(time.Millisecond))

	openTeach()
	// The teaching view's compare panel lists the other file of the batch.
	if n := evaluate[int](t, ctx, `document.querySelectorAll('#teach-compare option[value="1"]').length`); n != 1 {
		t.Errorf("the teaching view does not offer one.png to compare with (%d options)", n)
	}
	evaluate[bool](t, ctx, `document.getElementById("nav-check").click(), true`)
	checkBack("the header's link")

	// Sorted by score, the order survives too.
	evaluate[bool](t, ctx, `document.getElementById("sort-button").click(), true`)
	waitFor(t, ctx, "sorting", `document.getElementById("sort-button").textContent === "Drop order"`, 10*time.Second)
	sorted := evaluate[[]string](t, ctx, `[...document.querySelectorAll("article.card")].map(c => c.dataset.file)`)
	openTeach()
	chromedp.Run(ctx, chromedp.Evaluate[bool](`history.back(), true`))
	waitFor(t, ctx, "the sorted page", `location.pathname === "/" && document.getElementById("sort-button")?.textContent === "Drop order"`, 30*time.Second)
	if got := evaluate[[]string](t, ctx, `[...document.querySelectorAll("article.card")].map(c => c.dataset.file)`); !reflect.DeepEqual(got, sorted) {
		t.Errorf("after Back, order %v; was %v", got, sorted)
	}

	// A batch still scoring when the user leaves keeps scoring.
	var more []upload
	for i, d := range digits[2:] {
		more = append(more, file(fmt.Sprintf("more-%02d.png", i), "image/png", d))
	}
	evaluate[int](t, ctx, dropScript(more))
	left := evaluate[string](t, ctx, `(() => { const f = document.getElementById("batch-bar").dataset.finished; document.getElementById("nav-train").click(); return f })()`)
	waitFor(t, ctx, "the training dashboard", `location.pathname === "/train"`, 10*time.Second)
	time.Sleep(2 * time.Second)
	chromedp.Run(ctx, chromedp.Evaluate[bool](`history.back(), true`))
	total := fmt.Sprint(2 + len(more))
	waitFor(t, ctx, "the batch left running", `location.pathname === "/" && document.getElementById("batch-bar")?.dataset.settled === "true" && document.getElementById("batch-bar")?.dataset.finished === "`+total+`"`, 2*time.Minute)
	t.Logf("left for /train with %s of %s finished; all finished on return", left, total)
	for _, c := range evaluate[[]card](t, ctx, readCards) {
		if c.State != "done" {
			t.Errorf("%s: %s %s", c.File, c.State, c.Error)
		}
	}

	// Clear still clears, and stays cleared across navigation.
	evaluate[bool](t, ctx, `document.getElementById("clear-button").click(), true`)
	waitFor(t, ctx, "Clear", `document.querySelectorAll("article.card").length === 0`, 10*time.Second)
	evaluate[bool](t, ctx, `document.getElementById("nav-train").click(), true`)
	waitFor(t, ctx, "the training dashboard", `location.pathname === "/train"`, 10*time.Second)
	evaluate[bool](t, ctx, `document.getElementById("nav-check").click(), true`)
	waitFor(t, ctx, "the check page", `location.pathname === "/" && document.querySelector('#drop-zone[data-ready="true"]') !== null`, 30*time.Second)
	if n := evaluate[int](t, ctx, `document.querySelectorAll("article.card").length`); n != 0 {
		t.Errorf("after Clear and a round trip, %d cards", n)
	}
}
