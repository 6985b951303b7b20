package pth

import (
	"errors"
	"fmt"
)

// The kinds of error: every error of this package is an [*Error] wrapping one of them.
var (
	// ErrFormat: not a torch.save file, or a damaged one (truncated, malformed pickle
	// or zip, sizes that do not add up).
	ErrFormat = errors.New("not a readable PyTorch checkpoint")
	// ErrUnsafe: the pickle refers to a class or function that a state dict does not
	// need; it is refused, never called.
	ErrUnsafe = errors.New("refused pickle")
	// ErrTooLarge: beyond MaxFileSize, MaxPickleSize or MaxTensorBytes.
	ErrTooLarge = errors.New("checkpoint too large")
	// ErrUnsupported: a valid checkpoint this package does not read (TorchScript,
	// big-endian, integer weights, the tar format of PyTorch < 0.4).
	ErrUnsupported = errors.New("unsupported checkpoint")
	// ErrNotGenerator: the tensors are not exactly those of an official GANomaly
	// generator (NetG), or hold NaN or Inf.
	ErrNotGenerator = errors.New("not a GANomaly generator")
)

// Error says what is wrong with a checkpoint, in words a user can act on.
type Error struct {
	Kind error // one of the Err* values above
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
