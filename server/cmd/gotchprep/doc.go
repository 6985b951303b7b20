// Command gotchprep prepares a copy of gotch (Go bindings to libtorch) that
// builds against the libtorch installed on this machine, and points the
// repository's builds at it through a generated, git-ignored go.work.
//
// Usage, from anywhere inside the repository:
//
//	go run ./server/cmd/gotchprep        # prepare (fast no-op when up to date)
//	go build ./server/...                # builds now use .build/gotch
//
// # Why
//
// gotch does not build as published:
//
//   - libtch/lib.go hard-codes CUDA link flags and the pre-C++11 ABI
//     (-D_GLIBCXX_USE_CXX11_ABI=0). Debian's libtorch-dev is CPU only and built
//     with the C++11 ABI, so the link fails. gotch's own setup script edits
//     that file inside the module cache, which is read-only, shared, and
//     cannot be reached by a build overlay (go refuses overlays there).
//   - libtch/torch_api_generated.cpp.h is generated from one libtorch release
//     (2.0.1 for gotch v0.8.0). Some wrappers call ops that another release
//     lacks or declares differently, and one such function stops the whole
//     translation unit from compiling.
//
// # What it does
//
//  1. Asks the go command which gotch version go.mod requires and where its
//     pristine source lies (GOWORK=off, so an earlier go.work cannot hide it).
//  2. Detects libtorch: $LIBTORCH or -libtorch (a prefix with include/ and
//     lib/, as in the downloadable archive), else the system install (/usr,
//     /usr/local; libraries in the multiarch directory). It reads the version
//     from torch/version.h, detects CUDA by the presence of libtorch_cuda.so or
//     libc10_cuda.so, and probes the C++ ABI from libc10.so's dynamic symbols
//     (names mangled with std::__cxx11 mean -D_GLIBCXX_USE_CXX11_ABI=1).
//  3. Copies the module to a temporary directory beside the output directory
//     (default .build/gotch), writable, and rewrites libtch/lib.go's cgo
//     directives for that libtorch.
//  4. Compiles each C++ file of libtch with "$CXX -fsyntax-only" and the same
//     flags cgo will use, maps every error (and every "required from here"
//     of a template error) to the enclosing top-level function, and replaces
//     that function's body with one that throws "<fn> is not available in
//     libtorch <version>" inside gotch's PROTECT macro. The Go side therefore
//     gets an ordinary error from ts.TorchErr, never a crash; non-void
//     functions return a value-initialised zero ("return {};"). It repeats
//     until the files compile, and lists the stubbed functions in STUBBED.txt.
//  5. Extends the copy for this project (extend.go): adds libtch/ganomaly_ops.cpp
//     (leaky_relu with a slope, a whole Adam step, zero_grad, which gotch does
//     not bind; server/internal/torch calls them), and takes out of
//     ts.newTensor the 100 KB Go allocation gotch gives every tensor handle so
//     that finalizers run under heap pressure. This project frees its tensors
//     explicitly (a step's, and a run's at its end), and the allocation was 20
//     of the 25 µs each op took.
//  6. Renames the temporary directory into place, writes a stamp file, and
//     writes go.work at the repository root (the go version is go.mod's).
//
// The go.work it writes reads, in essence:
//
//	go 1.26.0
//	use .
//	replace github.com/sugarme/gotch v0.8.0 => ./.build/gotch
//
// The stamp records the gotch version, the libtorch description, the
// generated cgo directives and a hash of this program's own source (embedded),
// so a re-run is a no-op until one of those changes. The prepared files are
// byte-for-byte reproducible, so the go build cache keeps the slow first cgo
// compile of libtch (minutes) across re-preparations.
//
// While go.work names .build/gotch, every build in the repository (pure
// packages too) needs that directory to exist: a clean step must remove
// go.work and go.work.sum together with .build, or run gotchprep again.
//
// Link-time problems (a symbol declared in the headers but missing from the
// libraries) are not detected here; the cgo link reports them by name.
package main
