// Package webapp serves the browser app: go-app's handler for the pages and its
// generated files, and the web folder (app.wasm, the kernel worker, styles, icons)
// from memory, the .wasm files gzip-encoded.
//
// The server's main and the wasm client's main are kept apart and share only package
// wasm/ui (the components and the route table): a wasm main that references
// app.Handler pulls net/http and text/template into app.wasm and doubles it.
//
// The app's version, which names the service worker's cache, is a hash of the web
// files and of the handler's settings, so restarting a server is not an update and
// changing anything the browser runs is one.
//
// The web folder must hold the built app.wasm, worker.wasm (SIMD kernels, Go 1.27)
// and worker-scalar.wasm (scalar kernels, for browsers without WebAssembly SIMD):
// make web builds them, BuildCommands spells it out.
//
// The .gz files are optional (without them the server compresses at start-up) and
// ignored, with a warning, when they do not match their .wasm.
package webapp
