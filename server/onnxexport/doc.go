// Package onnxexport writes a GANomaly generator as an ONNX model, so that a model
// trained or imported here runs in onnxruntime (native, web, mobile) or in any other
// ONNX runtime.
//
// The graph is the official NetG in eval mode: encoder1 → decoder → encoder2, with
// Conv, ConvTranspose, BatchNormalization (running statistics, not folded, so that the
// file stays an image of the PyTorch model), LeakyRelu, Relu and Tanh nodes named after
// the official modules, and initializers named after the official parameters. Input
// x [N, C, H, W] float32 in [−1, 1]; outputs xhat [N, C, H, W], z and zhat
// [N, nz, 1, 1] as the official NetG returns them, and score [N], the raw anomaly
// score the model's calibration applies to. The batch axis is dynamic.
//
// The calibration, config and provenance travel in metadata_props (keys in
// [MetadataKeys]), so that a user of the ONNX file alone can still say "anomalous"
// with the model's own threshold.
//
// The ONNX protobuf types come from github.com/advancedclimatesystems/gonnx/onnx
// (generated from onnx.proto3 with google.golang.org/protobuf); this package only
// builds messages.
package onnxexport
