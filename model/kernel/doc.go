// Package kernel holds the float32 inference kernels of ganomaly-go: 2-D
// convolution and transposed convolution (NCHW, square kernels, no bias), a
// blocked GEMM behind both, batch normalisation folded into a per-channel
// scale and shift, and the activations GANomaly uses.
//
// It is pure Go, with no cgo, no assembly, no unsafe and no syscall/js, so the
// same code runs natively and in the browser (GOOS=js GOARCH=wasm).
//
// # Layout
//
// Tensors are row-major []float32 in NCHW order: element (n, c, h, w) of a tensor
// with C channels of H×W is at ((n*C+c)*H+h)*W+w. Weights keep PyTorch's layouts,
// [OutC, InC, K, K] for Conv2d and [InC, OutC, K, K] for ConvTranspose2d, so they
// load from a checkpoint without reordering.
//
// # Fast paths and references
//
// Every fast kernel has a naive reference beside it (Conv2DRef,
// ConvTranspose2DRef, GemmRef, BatchNormRef), and the tests hold them together
// at many shapes: exactly on small integers, within a stated rounding bound on
// random values. Conv2D runs im2col straight into the packed panels of a GEMM
// whose n dimension is Batch·OH·OW, so that late layers with 4×4 or 1×1 outputs
// still fill the register tile; ConvTranspose2D runs Wᵀ·x through the same
// GEMM and adds each tile into the output as it leaves the registers (a fused
// col2im).
//
// # Two builds
//
// Built with Go 1.27 and GOEXPERIMENT=simd, the micro-tiles are 4 rows × two SIMD
// vectors (tile_simd.go, microkernel_simd.go; 4 lanes under WebAssembly, 4 to 16 on
// amd64); otherwise 4×2 scalars (tile_scalar.go, microkernel_scalar.go), which
// any Go builds. Everything else is shared, and the tests hold both to the same
// references. On one AVX-512 core GANomaly's generator runs at about 20–30
// GFLOP/s with the vectors and 7 without; under WebAssembly (V8) at 6–10 and 4.
//
// # Memory and threads
//
// Scratch memory lives in a Workspace: after a first call with a geometry, calls
// with that geometry allocate nothing. On native builds a GEMM of more than a few
// MFLOP is cut into chunks that a small persistent pool of goroutines, up to
// GOMAXPROCS, claims in turn; under WebAssembly (one thread) everything runs on
// the caller's goroutine. Wrong lengths or geometries are programmer errors and
// panic with a constant message (see errors.go).
package kernel
