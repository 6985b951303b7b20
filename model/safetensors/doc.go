// Package safetensors reads and writes the safetensors file format
// (https://huggingface.co/docs/safetensors) for float32 tensors, strictly.
//
// # Format
//
// A file is
//
//	[8 bytes]  N, the header length, unsigned 64-bit little-endian
//	[N bytes]  header: UTF-8 JSON object, possibly padded with trailing spaces
//	[rest]     data buffer: the tensors' bytes, little-endian, row-major
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets"}, where
// data_offsets = [begin, end] are byte offsets into the data buffer (not the file), and
// may hold a "__metadata__" object of string to string. The tensors' byte ranges must
// cover the data buffer exactly, with no gap and no overlap.
//
// # Reading
//
// [Read] accepts only dtype F32; a file holding any other dtype is rejected with an
// error naming the tensor and its dtype (errors.Is(err, [ErrUnsupportedDtype])). Beyond
// what the reference implementation checks, Read also rejects duplicate keys at any
// level (encoding/json would silently keep the last one), unknown fields in a tensor
// entry, a "__metadata__" that is not an object of strings, empty tensor names, and
// anything but whitespace after the header object. Shape products are checked against
// the data actually present before anything is allocated, so a hostile file cannot make
// Read allocate much more than its own size, and Read never panics (a fuzz target,
// FuzzRead, holds it to that). Every error is an [*Error] that says what is wrong and
// where (tensor name or header offset) and wraps one of the sentinel errors.
//
// All tensors returned by one Read share one backing []float32 (each Data slice is
// capped at its own length, so appending to one cannot overwrite another).
//
// # Writing
//
// [Write] is deterministic and writes what the reference implementation writes for
// float32 tensors, so the Python safetensors library reads our files: "__metadata__"
// first (keys sorted), then the tensors sorted by name with contiguous data_offsets in
// that order, the header JSON compact and padded with spaces to a multiple of 8 bytes so
// the data buffer starts 8-byte aligned. [WriteFile] replaces a file atomically.
//
// # Scalars and empty tensors
//
// Both are allowed, as in the reference implementation: a 0-d tensor has Shape [] (or
// nil when writing) and exactly one value; a tensor with a zero dimension has no values
// and data_offsets [k, k].
//
// We keep our own reader rather than use github.com/nlpodyssey/safetensors (published
// only as a pseudo-version) because weights files come from the outside world and need
// strict validation, actionable errors and safety against hostile input.
//
// The package is pure Go with no cgo, no unsafe and no syscall/js, so it builds for
// GOOS=js GOARCH=wasm and runs in the browser.
package safetensors
