// Package torchengine is the libtorch engine of model/train: GANomaly's training step on
// libtorch through gotch, on the CPU or a CUDA device. Linking it (a blank import)
// registers it as train.EngineTorch.
//
// # One architecture
//
// The networks are built from the layer list of package model ([model.Config.Generator]
// and [model.Config.Discriminator]), not from a second description: each module's Path
// ("encoder1.main.pyramid-64-128-conv") is split on "." into gotch VarStore sub-paths,
// so every tensor carries the official PyTorch name and moves by name to the weights
// file. A cross-check test builds a generator here, exports it, loads it with
// [model.NewGenerator] and compares z, x̂ and ẑ.
//
// # Training step (official samet-akcay/ganomaly, lib/model.py)
//
// Per batch x: G runs once (x → z → x̂ → ẑ, train-mode batch norm); D runs on x and on
// x̂.detach(). G's loss is w_adv·mean((f_D(x) − f_D(x̂))²) + w_con·L1(x̂, x) +
// w_enc·mean((ẑ − z)²); G takes an Adam step. D's loss is 0.5·[BCE(D(x), 1) +
// BCE(D(x̂), 0)]; D takes an Adam step, and is re-initialised (DCGAN init; Adam state
// kept) when its loss falls below 1e-5. The official code runs D on x a second time for
// the feature-matching term; the features it gets are those of the first run (same
// weights, same batch, train-mode batch norm), so this package reuses them, detached:
// G's and D's trajectories are the same, with one D forward fewer per step.
//
// The step is the one of package model/learn, which documents it, computed here by
// libtorch's autograd; the two
// agree to about 1e-7 per step (TestPureGoStepMatchesGotch) and both match PyTorch's
// (TestStepMatchesPyTorch, on model/learn's fixture).
//
// Adam keeps its state here (libtorch tensors) rather than in gotch's optimizer,
// because gotch v0.8.0 does not expose the C++ optimizer's state: ours can be
// checkpointed, so a resumed run continues exactly. Its update is [torch.AdamStep],
// PyTorch 1.13's own operations (eps 1e-8).
//
// Weights are initialised in Go ([learn.InitialWeights]) and copied into libtorch:
// gotch v0.8.0 has no binding for torch.manual_seed, and nothing else in training
// draws from libtorch's generator (up to the non-associativity of multithreaded
// float sums in libtorch's kernels, a run is reproducible from its seeds).
//
// # Threads
//
// libtorch keeps grad mode per OS thread, so all torch work happens on one goroutine
// locked to its thread (a [torch.Worker]): this package keeps one for the process.
// Its ops run on the threads the worker sets (see [torch.Worker.Threads]): every CPU
// Go may use where libtorch's own default is 1.
//
// # Speed
//
// A step costs what PyTorch's costs on the same libtorch (make bench-train) because
// of three things, each measured: libtorch on every core (its default was one of
// two here); gotch's 100 KB Go allocation per tensor handle taken out by gotchprep
// (20 of the 25 µs per op); and the two calls gotch lacks, from gotchprep's
// ganomaly_ops.cpp: leaky_relu with a slope (one kernel each way; PReLU with a fixed
// weight cost about 7 %) and the whole Adam update in one call (it made 476 of a
// step's 564 tensors, zero_grad included). Without the ballast nothing makes Go's
// collector run gotch's finalizers soon, so every tensor is freed explicitly: a
// step's through its scope, a run's own when the run ends (torchEngine.Close).
package torchengine
