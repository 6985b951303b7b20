// Package httpserver is ganomaly's HTTP server: the browser app (server/webapp), the
// list of models and their weights.
//
//	GET /                                   the app (go-app pages, prerendered)
//	GET /web/…                              the app's files (app.wasm gzip-encoded)
//	GET /api/models                         JSON list of models (api.ModelList)
//	GET|HEAD /weights/<name>.safetensors    a weights file; ?v=<sha256 prefix> pins it
//
// Models are the embedded default (package weights) and every valid
// <name>.safetensors in the models folder, with its optional <name>.json card; the
// folder is rescanned at each request, so published models appear without a restart,
// and invalid files are skipped and logged. Errors of the API are JSON (api.Error).
//
// Routing is the standard library's ServeMux: since Go 1.22 its patterns match
// methods and wildcards, which is all this server needs.
//
// server/cmd/ganomaly's serve command is the production main; cmd/devserve is a small
// one for working on the app.
package httpserver
