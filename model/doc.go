// Package model is GANomaly (Akcay et al., ACCV 2018) in pure Go: the architecture as
// one list of layers, inference in float32, the anomaly score, its calibration, and the
// weights file.
//
// The layer list built by [Config.Generator] and [Config.Discriminator] is the single
// source of truth for the architecture. The gotch trainer (server/internal/torchengine) builds its
// libtorch modules from the same list, and every parameter carries the name of the
// official PyTorch module (samet-akcay/ganomaly, lib/networks.py), so weights move by
// name between this package, the trainer and official checkpoints.
//
// The package has no cgo and no syscall/js: it builds for GOOS=js GOARCH=wasm and runs
// in the browser. Kernels live in [github.com/ganomaly-go/ganomaly-go/model/kernel],
// the file format in model/safetensors, image decoding in model/imageio.
package model
