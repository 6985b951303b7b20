// Command worker is the browser app's kernel worker: a small WebAssembly program,
// apart from the page's app.wasm, that runs in a Web Worker and does the model's
// arithmetic there. Go's wasm runtime does not preempt goroutines, so a forward pass
// run by the page itself would freeze the page until it ends; in workers it runs on
// other threads, a batch of images at a time per worker, several workers in parallel.
//
// It holds no go-app and no net/http, only model, imageio and safejs. web/worker.js
// starts it and owns the messaging: the Go side only registers synchronous functions
// on the worker's global object,
//
//	ganomalyLoad(weights: Uint8Array) → {ok: true, imageSize, channels, latent} | {error}
//	ganomalyScoreMany({files: [Uint8Array], lean}) → [{raw, score, anomalous, scopeNote,
//	    inputURL, reconURL, heatURL, z, zhat, xhat} | {error}] | {error}
//
// (and the training functions of train.go), where the URLs are data: URLs of PNGs and
// z, zhat and xhat Uint8Arrays of little-endian float32 values, left out when lean.
// Blocking the worker's own event loop while they compute is the point.
//
// Build (the browser fetches /web/worker.wasm):
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o web/worker.wasm ./wasm/worker
package main
