package e2e

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// TestDrawADigit draws on the teaching view's pad with dispatched pointer events (a
// mouse drag): the drawing is scored as it is drawn, its score is what native scoring
// gives for the same pixels, and a changed drawing changes the score; Clear empties the
// pad.
func TestDrawADigit(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+"/teach")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the pad", `document.querySelector('#teach[data-client="true"]') !== null && document.getElementById("teach-canvas") !== null`, time.Minute)
	rect := evaluate[map[string]float64](t, ctx, `(() => { const r = document.getElementById("teach-canvas").getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; })()`)
	drag := func(points ...[2]float64) {
		t.Helper()
		at := func(p [2]float64) (float64, float64) { return rect["x"] + p[0]*rect["w"], rect["y"] + p[1]*rect["h"] }
		x, y := at(points[0])
		actions := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x, y, chromedp.ButtonLeft)}
		for _, p := range points[1:] {
			x, y = at(p)
			actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y, chromedp.ButtonLeft), chromedp.Sleep(30*time.Millisecond))
		}
		actions = append(actions, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x, y, chromedp.ButtonLeft))
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatal(err)
		}
	}
	// A 1: one stroke down the middle.
	drag([2]float64{0.5, 0.2}, [2]float64{0.5, 0.35}, [2]float64{0.5, 0.5}, [2]float64{0.5, 0.65}, [2]float64{0.5, 0.8})
	settled := func(what string) float64 {
		t.Helper()
		// Scored, and no run under way or owed: the explanation is of the drawing as it is.
		waitFor(t, ctx, what, `document.getElementById("teach").dataset.state === "ready" && document.getElementById("teach-raw") !== null`, time.Minute)
		time.Sleep(500 * time.Millisecond)
		runs := evaluate[string](t, ctx, `document.getElementById("teach-draw").dataset.runs`)
		time.Sleep(500 * time.Millisecond)
		if again := evaluate[string](t, ctx, `document.getElementById("teach-draw").dataset.runs`); again != runs {
			t.Fatalf("%s: still scoring (%s then %s runs)", what, runs, again)
		}
		raw, err := strconv.ParseFloat(evaluate[string](t, ctx, `document.getElementById("teach-raw").dataset.value`), 64)
		if err != nil {
			t.Fatal(err)
		}
		// The same pixels, scored natively.
		url := evaluate[string](t, ctx, `document.getElementById("teach-canvas").toDataURL("image/png")`)
		png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/png;base64,"))
		if err != nil {
			t.Fatal(err)
		}
		native := nativeScores(t, []upload{file("drawing.png", "image/png", png)})["drawing.png"]
		if native == nil || math.Abs(native.Raw-raw) > 1e-5*math.Max(native.Raw, 1e-9) {
			t.Fatalf("%s: the page says raw %v after %s runs, native scoring of the pad's pixels %+v", what, raw, runs, native)
		}
		t.Logf("%s: raw score %.6g (native %.6g), after %s runs", what, raw, native.Raw, runs)
		return raw
	}
	one := settled("a drawn 1")
	// Turn it into a 7: a bar across the top.
	drag([2]float64{0.25, 0.2}, [2]float64{0.4, 0.2}, [2]float64{0.55, 0.2}, [2]float64{0.7, 0.2})
	seven := settled("a drawn 7")
	if seven == one {
		t.Errorf("the score did not move when the drawing changed: %v", one)
	}
	// The step-through, for a class on a projector: each stage in turn, lit alone,
	// with this image's numbers, down to the raw score the page shows.
	for step := 1; step <= 5; step++ {
		evaluate[bool](t, ctx, `(document.getElementById("step-next").click(), true)`)
		waitFor(t, ctx, fmt.Sprintf("step %d", step), fmt.Sprintf(`document.getElementById("teach-stepper").dataset.step === "%d"`, step), 10*time.Second)
		st := evaluate[map[string]any](t, ctx, `({text: document.getElementById("step-text").textContent,
			on: [...document.querySelectorAll("#teach-stages figure.step-on")].map(f => f.querySelector("#teach-z, #teach-zhat")?.id || f.querySelector("img")?.alt || "?"),
			off: document.querySelectorAll("#teach-stages figure.step-off").length})`)
		text := st["text"].(string)
		want := map[int]string{1: "input x", 2: "teach-z", 3: "reconstruction x̂", 4: "teach-zhat"}[step]
		on := fmt.Sprint(st["on"])
		if step < 5 && (on != "["+want+"]" || st["off"].(float64) != 3) || step == 5 && (on != "[]" || st["off"].(float64) != 4) {
			t.Errorf("step %d lights %s with %v dimmed, want %q alone", step, on, st["off"], want)
		}
		if !strings.HasPrefix(text, fmt.Sprintf("%d of 5", step)) {
			t.Errorf("step %d says %q", step, text)
		}
		if step == 5 {
			if raw := evaluate[string](t, ctx, `document.getElementById("teach-raw").textContent`); !strings.Contains(text, raw) {
				t.Errorf("the last step says %q, not the raw score %s", text, raw)
			}
		}
	}
	evaluate[bool](t, ctx, `(document.getElementById("step-all").click(), true)`)
	waitFor(t, ctx, "every stage again", `document.getElementById("teach-stepper").dataset.step === "0" && document.querySelectorAll("#teach-stages .step-off").length === 0`, 10*time.Second)

	evaluate[bool](t, ctx, `(document.getElementById("clear-drawing").click(), true)`)
	if lit := evaluate[int](t, ctx, `(() => { const c = document.getElementById("teach-canvas"); const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()`); lit != 0 {
		t.Errorf("%d lit pixels after Clear", lit)
	}
}
