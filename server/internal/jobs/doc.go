// Package jobs runs training jobs for the HTTP server: a FIFO queue running one job at
// a time with the build's training engine (libtorch when the binary links
// server/internal/torchengine, else pure Go), each job in a folder of its own, its progress as a log of
// events that clients can replay, and its model published into the models folder when
// it succeeds.
//
// # Folders
//
//	<models>/jobs/<id>/job.json                 the job (api.Job), replaced atomically at each change
//	<models>/jobs/<id>/events.jsonl             every event of the job, one api.JobEvent per line
//	<models>/jobs/<id>/checkpoint.safetensors   the trainer's checkpoint of the last finished epoch
//	<models>/<dataset>-<class>-<id>.safetensors the published weights, and .json their model card
//
// The weights and the card are written in the job's folder first, then renamed into the
// models folder, card first: the server's catalog lists a model by its weights file, so
// a model never appears there without its card, nor half written.
//
// # Lifecycle
//
// queued → running → succeeded | failed | cancelled. When the server stops (Close), the
// running job is stopped between two steps and, like every queued one, marked
// interrupted; its checkpoint stays. At the next start the manager lists it as
// interrupted (as it does any job that a crash left queued or running), and Resume
// queues it again: it continues after its last finished epoch.
//
// # Requests
//
// A request is turned into train.Options and checked by the same rules as the CLI's
// flags (train.Options.Validate, model.Config.Validate, data.Options.Validate), field by
// field so that a refusal names the field, and then against the server's limits
// (api.JobLimits), which keep jobs to what a shared server should run.
package jobs
