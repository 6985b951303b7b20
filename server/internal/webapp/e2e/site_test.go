package e2e

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// TestStaticSite writes the app with WriteSite (what `ganomaly site` does), serves the
// folder with a plain static file server (net/http's FileServer: no API, no gzip
// negotiation, no routes), scores a digit, reloads offline and scores again, and
// checks that the Train page says training needs the server.
func TestStaticSite(t *testing.T) {
	dist := filepath.Join(t.TempDir(), "dist")
	s, err := httpserver.New(httpserver.Options{WebDir: webDir(t), NoTraining: true, StaticSite: true, Version: "e2e",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.WriteSite(dist)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("figure: static site %d files, %.1f MB", len(rep.Files), float64(rep.Bytes)/1e6)
	// Writing again over the earlier site replaces it; over any other folder, refuses.
	if _, err := s.WriteSite(dist); err != nil {
		t.Errorf("rewriting the site: %v", err)
	}
	os.WriteFile(filepath.Join(dist, "CNAME"), []byte("anomaly.example.org"), 0o644)
	if _, err := s.WriteSite(dist); err == nil || !strings.Contains(err.Error(), "CNAME") {
		t.Errorf("a site holding a file of the user's was replaced: %v", err)
	}
	os.Remove(filepath.Join(dist, "CNAME"))
	if st, err := os.Stat(dist); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("site folder mode %v (%v): a web server running as another user could not read it", st.Mode().Perm(), err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "keep.txt"), []byte("mine"), 0o644)
	if _, err := s.WriteSite(other); err == nil {
		t.Error("a non-empty folder that is not a site was overwritten")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	static := &http.Server{Handler: http.FileServer(http.Dir(dist))}
	go static.Serve(ln)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := static.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Log(err)
			}
		}
	}
	t.Cleanup(stop)
	url := "http://" + ln.Addr().String()

	ctx := newBrowser(t)
	digit := []upload{file("digit-7.png", "image/png", digitPNGs(t, 1)[0])}
	native := nativeScores(t, digit)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app to start", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	evaluate[int](t, ctx, dropScript(digit))
	waitFor(t, ctx, "the score", `document.querySelector('article.card[data-state="done"]') !== null`, 2*time.Minute)
	checkCards(t, evaluate[[]card](t, ctx, readCards), native)

	// The Train page, reached in the app, says that training needs the server.
	evaluate[bool](t, ctx, `document.getElementById("nav-train").click(), true`)
	waitFor(t, ctx, "the notice", `document.querySelector('#train-page[data-avail="unavailable"]') !== null`, time.Minute)
	if msg := evaluate[string](t, ctx, `document.getElementById("train-unavailable").textContent`); !strings.Contains(msg, "static copy") || !strings.Contains(msg, "training needs the ganomaly server") ||
		evaluate[string](t, ctx, `document.getElementById("train-here-instead")?.getAttribute("href") || ""`) != "/train/here" {
		t.Errorf("train page on a static site says %q", msg)
	}
	evaluate[bool](t, ctx, `document.getElementById("nav-check").click(), true`)

	// Offline: the static server stopped and the network cut; the service worker's
	// caches must hold everything.
	waitFor(t, ctx, "the cached weights", `caches.keys().then(async keys => { for (const k of keys) { const c = await caches.open(k); for (const r of await c.keys()) if (r.url.includes("/weights/default.safetensors")) return true } return false })`, time.Minute)
	clearBatch(t, ctx) // kept results would come back after the reload
	stop()
	goOffline(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/")); err != nil {
		t.Fatalf("reloading offline: %v", err)
	}
	waitFor(t, ctx, "the app to start offline", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	evaluate[int](t, ctx, dropScript(digit))
	waitFor(t, ctx, "the score offline", `document.querySelector('article.card[data-state="done"]') !== null`, time.Minute)
	checkCards(t, evaluate[[]card](t, ctx, readCards), native)

	// A static copy trains in the browser, offline too: the digits came with it.
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/train/here?epochs=1&width=8&size=16&max_train=400&max_test=200&batch=32&workers=2")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the Train here page", `document.querySelector('#here-page[data-client="true"]') !== null`, time.Minute)
	evaluate[bool](t, ctx, `(document.getElementById("start-training").click(), true)`)
	waitFor(t, ctx, "the training to end", `["done", "failed", "cancelled"].includes(document.getElementById("here-page").dataset.state)`, 3*time.Minute)
	if st := evaluate[string](t, ctx, `document.getElementById("here-page").dataset.state + " " + (document.getElementById("train-error")?.textContent || "")`); st != "done " {
		t.Errorf("training in a static copy, offline: %s", st)
	}
}
