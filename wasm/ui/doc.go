// Package ui is the browser app: its go-app components and its route table, shared by
// the wasm client (wasm/main.go) and the server (server/internal/webapp), which must register
// the same routes or answer 404 for them.
//
// The package compiles natively, because the server prerenders its pages, and for
// GOOS=js GOARCH=wasm. Everything that touches the browser (workers, Cache Storage,
// files, blob URLs) is in the *_js.go files behind `js && wasm` and goes through
// github.com/hack-pad/safejs; *_other.go gives the native build stubs that are never
// called (components reach the browser only from client-side hooks, behind
// app.IsClient). The package must not import net/http: a wasm main that pulls it in
// doubles app.wasm.
//
// Scoring never runs on the page's own Go runtime: Go's wasm does not preempt, so a
// forward pass here would freeze the page. The page hands File objects to kernel
// workers (wasm/worker, web/worker.js) and only renders what comes back.
//
// Files follow go-app's docs app: one kebab-case file per page or component.
package ui
