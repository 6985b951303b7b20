// Package atomicfile writes files so that a reader, or a restart after a crash, sees
// either the old file or the whole new one, never half of one: the data goes to a
// temporary file in the same folder, is synced, and is renamed over the target.
//
// Every file the project writes that someone else reads (weights, model cards,
// checkpoints, a training job's state) goes through here.
package atomicfile
