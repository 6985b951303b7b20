// Package torch holds what every gotch (libtorch) user in this project needs
// and gotch does not give safely:
//
//   - Worker runs all torch work on one goroutine locked to one OS thread.
//     libtorch keeps grad mode, and gotch its last error, per OS thread, and
//     Go moves goroutines between threads between any two cgo calls; without
//     the lock, training fails at random ("element 0 of tensors does not
//     require grad") and errors get lost or reported by an unrelated call.
//   - SelectDevice turns a -device flag ("auto", "cpu", "cuda", "cuda:N")
//     into a gotch.Device, with an error when the device is not there.
//   - NewWorker also fits libtorch's intra-op threads to the CPUs Go may use:
//     libtorch's own default (physical cores) can be 1 on a 2-vCPU machine, or
//     more than a container's CPU quota (see useEveryCore).
//   - LeakyReLU takes a slope; gotch's LeakyRelu is fixed at libtorch's 0.01.
//     AdamStep and ZeroGrads are PyTorch's Adam update and zero_grad in one
//     call for a whole network. These three, and the thread count, are libtch
//     calls gotch has no Go binding for; LeakyReLU, AdamStep and ZeroGrads
//     come from the ganomaly_ops.cpp that gotchprep adds to libtch.
//   - NewConvTranspose2DWeight and ConvTranspose2D: gotch's
//     nn.NewConvTranspose2D allocates its weight as [out, in, k, k], but
//     libtorch's conv_transpose2d expects [in, out, k, k] (PyTorch's layout),
//     so it only works when in == out.
//
// Beware: gotch's Must* functions, and the nn layers' Forward methods built
// on them, call log.Fatal on a libtorch error, which ends the process; use
// the error-returning variants (ts.Conv2d, x.Maximum, loss.Backward) where a
// failure is possible.
//
// gotch only builds after `go run ./server/cmd/gotchprep`, which prepares a
// copy of gotch for the installed libtorch (see that command's doc).
package torch
