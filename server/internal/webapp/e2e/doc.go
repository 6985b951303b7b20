// Package e2e holds the browser tests of the app: the real server, the real
// app.wasm and worker.wasm (built by the test with go build), driven in headless
// Chromium through chromedp. They are slow (a minute or two) and need Chromium, so
// they live apart from the unit tests; they skip, saying why, in -short mode or when no
// Chromium is found (GANOMALY_CHROMIUM names one explicitly).
//
//	go test -v ./server/internal/webapp/e2e                      # logs the figures (sizes, times, images/s)
//	go test ./server/internal/webapp/e2e -args -update-screenshot # also rewrites docs/screenshot-batch.png
package e2e
