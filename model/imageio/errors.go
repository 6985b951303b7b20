package imageio

import (
	"errors"
	"strings"
)

// Kinds of decoding error. Every error Decode returns wraps exactly one of them, as does
// every error Load returns about the file; the error's own message gives the details
// (format, dimensions, the limit exceeded).
var (
	// ErrFormat: the bytes are not a PNG, JPEG, GIF or WebP file (an empty file included).
	ErrFormat = errors.New("imageio: not a PNG, JPEG, GIF or WebP image")
	// ErrTooLarge: the file has more bytes, or its header more pixels or a longer side,
	// than the Limits allow.
	ErrTooLarge = errors.New("imageio: image too large")
	// ErrZeroSize: the header says the image is zero pixels wide or high.
	ErrZeroSize = errors.New("imageio: image has zero size")
	// ErrCorrupt: the file starts like an image of a known format but cannot be decoded;
	// it also wraps the decoder's own error (io.ErrUnexpectedEOF for most truncated files).
	ErrCorrupt = errors.New("imageio: truncated or corrupt image")
)

// errDecoderPanicked is wrapped, beside ErrCorrupt, by the error for a file that made a
// decoder panic; the fuzz target fails on it, so such files are still found.
var errDecoderPanicked = errors.New("decoder panicked")

// decodeError is what Decode returns: its own message, with the kind and the cause
// (the decoder's error, if any) for errors.Is and errors.As.
type decodeError struct {
	msg   string
	kind  error
	cause error
}

func (e *decodeError) Error() string { return e.msg }

func (e *decodeError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// Panic messages for programmer errors: bad shapes passed to Tensor, Image and HeatMap.
const (
	badSize     = "imageio: size must be positive"
	badChannels = "imageio: channels must be 1 or 3"
	shortTensor = "imageio: tensor shorter than channels×size×size"
)

// checkShape panics unless size and channels describe a tensor this package makes.
func checkShape(size, channels int) {
	if size <= 0 {
		panic(badSize)
	}
	if channels != 1 && channels != 3 {
		panic(badChannels)
	}
}

// UserMessage says what is wrong with an image file in words for the people who
// dropped it rather than for programmers: no package names, the details kept where
// they help ("the file has 40 MB; the limit is 32 MB"). Errors of other kinds come
// back as they are.
func UserMessage(err error) string {
	detail := func(kind error) string {
		// The message is "<kind>: <detail>" (see decodeError); keep the detail.
		d, ok := strings.CutPrefix(err.Error(), kind.Error()+": ")
		if !ok {
			return ""
		}
		return d
	}
	var msg string
	switch {
	case errors.Is(err, ErrFormat):
		msg = "Not an image we can read (PNG, JPEG, GIF or WebP)"
		if d := detail(ErrFormat); d != "" {
			msg += ": " + d
		}
		return msg
	case errors.Is(err, ErrTooLarge):
		msg = "Too large to score here"
		if d := detail(ErrTooLarge); d != "" {
			msg += ": " + d
		}
		return msg
	case errors.Is(err, ErrZeroSize):
		return "This image is empty: it is zero pixels wide or high"
	case errors.Is(err, ErrCorrupt):
		return "This file is damaged or cut short: it starts like an image but cannot be read"
	}
	return err.Error()
}
