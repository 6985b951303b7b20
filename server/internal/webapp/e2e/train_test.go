package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

const trainToken = "e2e-training-token"

// setFields sets form inputs by id and fires their change events, as typing does.
func setFields(fields map[string]any) string {
	b, _ := json.Marshal(fields)
	return `(() => {
  const fields = ` + string(b) + `;
  for (const [id, v] of Object.entries(fields)) {
    const e = document.getElementById(id);
    if (!e) throw new Error("no input " + id);
    e.value = String(v);
    e.dispatchEvent(new Event("change", {bubbles: true}));
  }
  return true;
})()`
}

// stepEvents counts a job's step events on the server, from its event stream.
func stepEvents(t *testing.T, base, id string) int {
	t.Helper()
	resp, err := http.Get(base + api.JobEventsURL(id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev api.JobEvent
			if json.Unmarshal([]byte(data), &ev) == nil && ev.Kind == api.EventStep {
				n++
			}
		}
	}
	return n
}

// TestTrainDashboard drives the training page against the real server and trainer: a
// refused value is explained next to its field; a small job starts from the form and
// its loss curves grow as events arrive; a connection cut and a reload in the middle of
// the job lose no point; the finished model is offered in the model picker and scores
// a digit.
func TestTrainDashboard(t *testing.T) {
	ctx := newBrowser(t)
	web := webDir(t)
	models := t.TempDir()
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: web, ModelsDir: models, Version: "e2e",
		Device: "cpu", Token: trainToken})

	// The browser talks to the server through a proxy that can cut its connections.
	proxy := newCutProxy(t, srv.addr)
	if err := chromedp.Do(ctx, chromedp.Navigate(proxy.url+"/train")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the training form", `document.querySelector('#train-page[data-avail="ready"]') !== null`, time.Minute)
	if got := evaluate[string](t, ctx, `document.getElementById("job-epochs").max`); got != "50" {
		t.Errorf("the epochs input's max is %q, want the server's limit 50", got)
	}

	// No token: asked for next to its field. A wrong token: the server's 401 there.
	evaluate[bool](t, ctx, `document.getElementById("job-submit").click(), true`)
	waitFor(t, ctx, "the token request", `document.getElementById("error-token") !== null`, 10*time.Second)
	evaluate[bool](t, ctx, setFields(map[string]any{"job-token": "wrong"}))
	evaluate[bool](t, ctx, `document.getElementById("job-submit").click(), true`)
	waitFor(t, ctx, "the 401", `document.getElementById("error-token")?.textContent.includes("wrong token")`, 10*time.Second)

	// No job has run yet: no speed to estimate from, and the form says so.
	if est := evaluate[string](t, ctx, `document.getElementById("train-estimate").textContent`); !strings.Contains(est, "no measured speed yet") {
		t.Errorf("estimate before any job: %q", est)
	}
	// An absurd value: the server's limit next to the field as one types, before any
	// submit.
	evaluate[bool](t, ctx, setFields(map[string]any{"job-token": trainToken}))
	evaluate[bool](t, ctx, `(() => { const e = document.getElementById("job-epochs"); e.value = "500"; e.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`)
	waitFor(t, ctx, "the refusal as one types", `document.getElementById("error-epochs") !== null`, 10*time.Second)
	reason := evaluate[string](t, ctx, `document.getElementById("error-epochs").textContent`)
	t.Logf("refused: %s", reason)
	if !strings.Contains(reason, "at most 50") {
		t.Errorf("epochs 500 refused with %q", reason)
	}

	// A small job: 3 epochs of 84 steps on 16×16 digits, every step logged.
	evaluate[bool](t, ctx, setFields(map[string]any{
		"job-dataset": "mnist", "job-anomaly_class": 2, "job-epochs": 3, "job-image_size": 16, "job-protocol": "honest",
		"job-width": 8, "job-batch_size": 32, "job-max_train": 3000, "job-max_test": 300,
	}))
	start := time.Now()
	evaluate[bool](t, ctx, `document.getElementById("job-submit").click(), true`)
	waitFor(t, ctx, "the job to run", `document.querySelector('#train-live[data-state="running"]') !== null && +document.getElementById("train-live").dataset.points > 0`, time.Minute)
	id := evaluate[string](t, ctx, `document.getElementById("train-live").dataset.job`)
	if evaluate[bool](t, ctx, `document.getElementById("error-epochs") !== null`) {
		t.Error("the epochs refusal is still shown after a valid submission")
	}
	first := evaluate[int](t, ctx, `+document.getElementById("train-live").dataset.points`)
	waitFor(t, ctx, "more points", fmt.Sprintf(`+document.getElementById("train-live").dataset.points > %d`, first+5), time.Minute)
	t.Logf("figure: job %s: first curve point %v after the click; %d, then more points", id, time.Since(start).Round(time.Millisecond), first)

	// The screenshot: the running job.
	waitFor(t, ctx, "a few more points", fmt.Sprintf(`+document.getElementById("train-live").dataset.points > %d`, first+30), time.Minute)
	evaluate[bool](t, ctx, `window.scrollTo(0, 0), true`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG; below, JPEG
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "screenshot-train.png")
	if *updateScreenshot {
		path = filepath.Join(repoRoot(t), "docs", "screenshot-train.png")
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}

	// The connection drops (the proxy cuts every connection): EventSource reconnects
	// with Last-Event-ID and the server replays what was missed.
	cuts := proxy.cut()
	waitFor(t, ctx, "the cut to be noticed", `document.getElementById("train-live").dataset.conn === "reconnecting"`, 10*time.Second)
	waitFor(t, ctx, "the reconnection", `document.getElementById("train-live").dataset.conn === "live" && document.getElementById("train-live").dataset.state !== "succeeded"`, 30*time.Second)
	t.Logf("cut %d connections; the stream is live again", cuts)

	// A reload in the middle of the job replays its events: the curve is whole again.
	before := evaluate[int](t, ctx, `+document.getElementById("train-live").dataset.points`)
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the job after a reload", fmt.Sprintf(`document.getElementById("train-live")?.dataset.job === %q && +document.getElementById("train-live").dataset.points >= %d`, id, before), time.Minute)

	// The end: every step the server logged is on the curve, and the model is offered.
	waitFor(t, ctx, "the job to succeed", `document.querySelector('#train-live[data-state="succeeded"]') !== null && document.getElementById("score-with-model")?.disabled === false`, 3*time.Minute)
	t.Logf("figure: job %s: %v from the click to its published model", id, time.Since(start).Round(time.Millisecond))
	points := evaluate[int](t, ctx, `+document.getElementById("train-live").dataset.points`)
	if want := stepEvents(t, srv.url, id); points != want || want == 0 {
		t.Errorf("the curve has %d points, the server logged %d steps", points, want)
	}
	name := evaluate[string](t, ctx, `document.getElementById("train-published").dataset.model`)
	if name != "mnist-2-"+id {
		t.Errorf("published model %q", name)
	}

	// Score a digit with it, from the check page the button opens.
	evaluate[bool](t, ctx, `document.getElementById("score-with-model").click(), true`)
	waitFor(t, ctx, "the new model in the picker", fmt.Sprintf(`document.querySelector("#model-select")?.value === %q && document.querySelector('#model-status[data-status="ready"]') !== null && document.querySelector('#drop-zone[data-ready="true"]') !== null`, name), time.Minute)
	evaluate[int](t, ctx, dropScript([]upload{file("digit.png", "image/png", digitPNGs(t, 1)[0])}))
	waitFor(t, ctx, "the score", `document.querySelector('article.card[data-state="done"]') !== null`, time.Minute)
	cards := evaluate[[]card](t, ctx, readCards)
	if len(cards) != 1 || !strings.HasPrefix(cards[0].Model, name+"@") || cards[0].Score == "" {
		t.Errorf("cards %+v: want one scored by %s", cards, name)
	}

	// Back on the form, the same job is estimated from the speed the server measured.
	if err := chromedp.Do(ctx, chromedp.Navigate(proxy.url+"/train")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the form again", `document.querySelector('#train-page[data-avail="ready"]') !== null && document.getElementById("job-epochs") !== null`, time.Minute)
	evaluate[bool](t, ctx, setFields(map[string]any{"job-epochs": 3, "job-image_size": 16, "job-width": 8, "job-batch_size": 32, "job-max_train": 3000}))
	waitFor(t, ctx, "an estimate", `+document.getElementById("train-estimate").dataset.seconds > 0`, 10*time.Second)
	t.Logf("figure: the same job estimated at %s s from the measured speed: %s", evaluate[string](t, ctx, `document.getElementById("train-estimate").dataset.seconds`),
		evaluate[string](t, ctx, `document.getElementById("train-estimate").textContent`))
}

// TestTrainNeedsTheServer: with a server that does not train, the page says so, and the
// rest of the app works.
func TestTrainNeedsTheServer(t *testing.T) {
	ctx := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+"/train")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the notice", `document.querySelector('#train-page[data-avail="unavailable"]') !== null`, time.Minute)
	msg := evaluate[string](t, ctx, `document.getElementById("train-unavailable").textContent`)
	if !strings.Contains(msg, "Training needs the server") || !strings.Contains(msg, "models folder") {
		t.Errorf("notice %q", msg)
	}
	evaluate[bool](t, ctx, `document.getElementById("nav-check").click(), true`)
	waitFor(t, ctx, "the check page", `document.querySelector('#drop-zone[data-ready="true"]') !== null`, time.Minute)
}

// cutProxy forwards TCP connections to a server and can cut them all at once, as a
// flaky network or a proxy's idle timeout does.
type cutProxy struct {
	url   string
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, backend string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{url: "http://" + ln.Addr().String()}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
	return p
}

// cut closes every connection open through the proxy and returns how many there were.
func (p *cutProxy) cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	n := len(p.conns) / 2
	p.conns = nil
	return n
}
