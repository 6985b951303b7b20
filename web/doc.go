// Package web holds the browser app's static files (styles, icons, the kernel
// worker's glue) and, once built, its two programs app.wasm and worker.wasm with their
// gzip forms. Built with the tag embedweb (make build does), the ganomaly binary
// carries them all, so that a lone binary is the whole deployment; without the tag
// (go test, go vet, a plain go build), [FS] is nil and the server reads a folder.
package web
