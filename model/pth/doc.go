// Package pth imports official PyTorch GANomaly checkpoints (the netG.pth that
// samet-akcay/ganomaly saves) as ganomaly-go weights files, in pure Go, from bytes held
// in memory, so that the command line and, later, the browser can use it.
//
// # What it reads
//
// A torch.save file in either container:
//
//   - the zip format of PyTorch ≥ 1.6: <prefix>/data.pkl, a pickle whose tensors refer
//     to storages stored as <prefix>/data/<key>;
//   - the legacy format of earlier versions (and of _use_new_zipfile_serialization=False):
//     a magic number, a protocol version and system information, each a pickle, then the
//     pickle of the object, the pickle of the storage keys, and each storage's bytes.
//
// The object must be a state dict (a dict or OrderedDict of tensors) or the dict
// {"epoch": int, "state_dict": state dict} that the official code saves. Float tensors
// may be float32, float64, float16 or bfloat16 (all become float32); num_batches_tracked
// is an int64 scalar, checked and dropped. A "module." prefix on every name (what
// torch.nn.DataParallel adds) is removed. [Read] returns the tensors; [Checkpoint.Weights]
// infers the model.Config from the names and shapes of encoder1, checks that the
// tensors are exactly the generator's (model.GeneratorArch.Params) and refuses NaN and
// Inf, and returns an uncalibrated model.WeightsFile: an official checkpoint carries no
// score calibration, so one has to be computed on normal images before the model can
// give verdicts.
//
// # Security
//
// A pickle is a program: unpickling it with Python can run any code. This package runs
// none, and it refuses every pickle that refers to a class or function outside what a
// state dict needs: collections.OrderedDict, torch._utils._rebuild_tensor_v2,
// torch._utils._rebuild_parameter and the torch.<Type>Storage classes (Float, Double,
// Half, BFloat16 and Long, plus the other integer and bool ones so that an error can
// name their dtype). Names given by GLOBAL are checked before unpickling starts, those
// given by STACK_GLOBAL when the unpickler asks for them; nothing is ever called but
// our own Go functions for the three names above. The error names what was refused (e.g. posix.system, the name
// under which os.system pickles). The unpickler is github.com/nlpodyssey/gopickle's
// pickle package with our own FindClass and PersistentLoad; its pytorch package is not
// used, because its class finder admits more than this list and it allocates storages
// of the sizes a file declares.
//
// # Limits
//
// What a hostile file can make the reader allocate is bounded: a file of at most
// [MaxFileSize]; a pickle of at most [MaxPickleSize] that builds at most 64 MiB of
// objects; storages of at most [MaxTensorBytes] in all, each checked against the bytes
// stored for it (uncompressed, as torch.save writes them) and read only after the
// names and shapes have been checked, by tensors that together hold no more values
// than their storages.
// gopickle allocates what a length-prefixed opcode declares before reading it, so every
// pickle is first scanned opcode by opcode: a length beyond the bytes that follow, an
// unknown opcode, an overlong text argument or too many objects is refused before
// gopickle sees it. Each tensor must be a view inside its storage with no more elements
// than the storage holds. Panics inside gopickle (it has a few on malformed input) are
// turned into errors. FuzzRead holds the reader to all of this.
//
// The package has no cgo, no unsafe and no syscall/js; it builds for GOOS=js
// GOARCH=wasm.
package pth
