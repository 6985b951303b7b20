// Package progress is the schema of a training run's progress reports: one Event type
// from the trainer (model/train) to the wire (wasm/api's JobEvent embeds it) and to the
// browser's own training, so that the server's dashboard, the browser's and the CLI's
// --json output read the same fields in the same units.
package progress
