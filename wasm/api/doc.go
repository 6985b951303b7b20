// Package api holds the JSON shapes of the HTTP API that the server answers and the
// browser app reads, and the URL rules both sides must agree on (model names, weights
// URLs).
//
// It is imported by the wasm client as well as by the server, so it must not import
// net/http or anything that pulls it in: the browser build stays small only while
// net/http is out of it (see server/internal/webapp).
package api
