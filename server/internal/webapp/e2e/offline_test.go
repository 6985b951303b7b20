package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

// TestEveryRouteOpensOffline: after one visit, /teach, /train and a URL with a query
// open with the server stopped and the network cut (go-app pre-caches only "/"), and
// the logo (/web/icon.svg) comes from the cache.
func TestEveryRouteOpensOffline(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", httpserver.Options{WebDir: webDir(t), Version: "e2e"})
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.url)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the app", `document.querySelector('#drop-zone[data-client="true"]') !== null`, time.Minute)
	evaluate[bool](t, ctx, `navigator.serviceWorker.ready.then(() => true)`, chromedp.EvalAwaitPromise)
	waitFor(t, ctx, "the logo in the cache", `caches.match("/web/icon.svg").then(r => !!r)`, time.Minute)
	srv.stop()
	goOffline(t, ctx)
	for _, c := range []struct{ path, ready string }{
		{"/teach", `document.querySelector('#teach[data-client="true"]') !== null`},
		{"/train", `document.querySelector('#train-page') !== null`},
		{"/?from=bookmark", `document.querySelector('#drop-zone[data-client="true"]') !== null`},
		{"/teach?id=3", `document.querySelector('#teach[data-client="true"]') !== null`},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.url+c.path)); err != nil {
			t.Errorf("offline %s: %v", c.path, err)
			continue
		}
		waitFor(t, ctx, "offline "+c.path, c.ready, time.Minute)
		if !evaluate[bool](t, ctx, `fetch("/web/icon.svg").then(r => r.ok, () => false)`, chromedp.EvalAwaitPromise) {
			t.Errorf("offline %s: the logo does not load", c.path)
		}
	}
}
