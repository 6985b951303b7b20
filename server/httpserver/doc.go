// Package httpserver is ganomaly's HTTP server: the browser app (server/internal/webapp), the
// list of models and their weights.
//
//	GET /                                   the app (go-app pages, prerendered)
//	GET /web/…                              the app's files (app.wasm gzip-encoded)
//	GET /api/models                         JSON list of model summaries (api.ModelList), with an ETag
//	GET|HEAD /weights/<name>.safetensors    a weights file; ?v=<sha256 prefix> pins it
//	GET|HEAD /cards/<name>.json             a model card, as published; ?v= pins it
//	PUT /api/models/<name>                  publish a model (token; multipart weights + card)
//	GET /healthz, /metrics                  liveness; Prometheus metrics
//	GET /api/jobs, /api/jobs/limits         training jobs (api.JobList) and their limits
//	POST /api/jobs                          start a job (api.JobRequest; bearer token)
//	GET|DELETE /api/jobs/{id}               a job; cancel it (token)
//	GET /api/jobs/{id}/events               its progress, Server-Sent Events, replayable
//	POST /api/jobs/{id}/resume              queue an interrupted job again (token)
//
// Models are the embedded default (package weights) and every valid
// <name>.safetensors in the models folder, with its optional <name>.json card. The
// folder is watched (fsnotify) and scanned again when it changes, not per request, so
// published models appear without a restart; invalid files are skipped and logged.
// Errors of the API are JSON (api.Error).
//
// Training jobs (see jobs.go and package server/internal/jobs) run one at a time and publish
// their models into the models folder, where the catalog finds them; they need the
// models folder, and starting or stopping one needs the server's bearer token.
//
// Routing is the standard library's ServeMux: since Go 1.22 its patterns match
// methods and wildcards, which is all this server needs.
//
// server/cmd/ganomaly's serve command is the production main; cmd/devserve is a small
// one for working on the app.
package httpserver
