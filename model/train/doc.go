// Package train runs a GANomaly training (Akcay et al., ACCV 2018) from data to a
// calibrated, evaluated weights file and its model card: the epochs and batches, the
// protocol's model selection and calibration, checkpoints, progress events, and the
// export that the pure-Go model (package model) scores with, in the server and in the
// browser. It is pure Go and builds for the browser.
//
// # Engines
//
// What steps the networks is an [Engine]: the pure-Go trainer of package model/learn
// ([EngineGo], always there, the browser's), or libtorch through gotch ([EngineTorch],
// registered by server/internal/torchengine when a binary links it; CPU or CUDA). Every engine
// takes the official step (see [learn.Trainer.Step]) from the same initial weights
// drawn from Options.Seed, and each epoch's batch order is drawn from (Options.Seed,
// epoch), so a run is reproducible from Options.Seed and Options.Data.Seed, and a
// checkpoint written with one engine resumes with another.
//
// # Protocols
//
// "honest" (the default): batch norm in eval mode (running statistics) whenever a
// model is scored; after each epoch the generator is measured on the validation split
// of normal images (never the test set) and the epoch with the lowest validation
// reconstruction error is kept; the score is calibrated on the validation normals
// ([model.CalibrateFromNormals], threshold at their CalibrationQuantile); the test set
// is scored once, at the end, with the kept model.
//
// "paper": the official behaviour, kept for comparison with published numbers and
// labelled "paper protocol: test-set model selection" in every output. No validation
// split; after each epoch the test set is scored with batch norm in train mode (batch
// statistics of the test batch, and running statistics updated by it, as the official
// test pass does), scores are min–max scaled over the test set, the epoch with the best
// test AUC is kept, and F1 is taken at the fixed threshold 0.20.
package train
