// Package learn trains GANomaly in pure Go: the backward pass of every module of the
// layer list, the losses, Adam, and the training step of the official code, so that a
// model can be trained where libtorch cannot go, in the browser (GOOS=js GOARCH=wasm,
// in Web Workers) as natively.
//
// # One architecture, one step
//
// The networks are built from package model's layer list ([model.Config.Generator],
// [model.Config.Discriminator]) with the official parameter names, initialised by
// [model.InitTensors] from the same seeded generators as the libtorch trainer
// (server/internal/torchengine), and stepped exactly as it steps them (see [Trainer.Step]). From the
// same weights and batch, one step here and one step there give the same losses and
// the same parameters (server/internal/torchengine's cross-check test), and both match PyTorch's
// own step (the fixture in testdata/, made by PyTorch 1.13).
//
// # Memory and the tape
//
// A forward pass keeps what its backward pass needs: each layer's input, and each
// batch norm's mean and 1/σ. Activations run in place (their derivative is written in
// terms of their output), batch norm writes a new buffer (its backward needs its
// input), and the gradients flow back through one buffer per convolution input. All
// buffers are kept between steps: after the first step of a batch size, a step
// allocates nothing but the kernels' scratch, which is kept too.
//
// # Data parallelism
//
// [Trainer.Gradients] computes both networks' gradients for one batch without
// changing any weight (D's backward pass uses the activations of the forward pass, as
// PyTorch's does, so it does not matter that G has not yet been updated), and
// [Trainer.Apply] takes the Adam steps. Between the two, gradients from several
// trainers holding the same weights can be averaged (Trainer.Grads exposes them):
// that is synchronous data parallelism over shards of a batch, as the browser runs it
// on every core. Batch norm then normalises each shard by its own statistics, as
// PyTorch's DistributedDataParallel does without SyncBatchNorm.
package learn
