package safetensors

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Tensor is one named float32 tensor: row-major, so element (i0, i1, ..., ik) is at
// Data[((i0*Shape[1]+i1)*Shape[2]+...)*Shape[k]+ik], and len(Data) is the product of
// Shape (1 for a 0-d tensor with an empty Shape).
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// File is the content of a safetensors file.
type File struct {
	// Tensors is sorted by name when returned by Read. Write accepts any order.
	Tensors []Tensor
	// Metadata is the header's "__metadata__" object; nil when the file has none or an
	// empty one (Write omits it when empty).
	Metadata map[string]string
}

// Tensor returns the tensor with the given name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := slices.BinarySearchFunc(f.Tensors, name, func(t Tensor, name string) int {
		return strings.Compare(t.Name, name)
	})
	if ok {
		return f.Tensors[i], true
	}
	// A File built by hand may be unsorted; the binary search can then miss.
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// Sentinel errors: every error from this package that is not an I/O error is an
// [*Error] wrapping one of these, so callers can tell the cases apart with errors.Is.
var (
	// ErrTruncated: the file is shorter than its header says (an interrupted download
	// or copy), or too short to hold the header length.
	ErrTruncated = errors.New("truncated file")
	// ErrTooLarge: the file or its header exceeds a size limit.
	ErrTooLarge = errors.New("file too large")
	// ErrMalformed: the file is not valid safetensors (bad JSON, bad shapes or offsets,
	// duplicate names, ...).
	ErrMalformed = errors.New("malformed safetensors file")
	// ErrUnsupportedDtype: the file is valid but holds a tensor whose dtype is not F32.
	ErrUnsupportedDtype = errors.New("unsupported dtype")
	// ErrInvalid: Write was given a File that cannot be written (shape and data
	// disagree, duplicate or empty names, ...).
	ErrInvalid = errors.New("invalid tensors")
)

// Error describes what is wrong with a file and where.
type Error struct {
	Kind error  // ErrTruncated, ErrTooLarge, ErrMalformed, ErrUnsupportedDtype or ErrInvalid
	Path string // file name, set by ReadFile and WriteFile
	Msg  string // what is wrong and where: tensor name or header offset
}

func (e *Error) Error() string {
	if e.Path != "" {
		return "safetensors: " + e.Path + ": " + e.Msg
	}
	return "safetensors: " + e.Msg
}

func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// withPath sets the path on err if it is an *Error.
func withPath(err error, path string) error {
	var e *Error
	if errors.As(err, &e) && e.Path == "" {
		c := *e
		c.Path = path
		return &c
	}
	return err
}

// numElements returns the product of shape, or ok=false if a dimension is negative or
// the product exceeds limit. A zero dimension makes the product 0 whatever the others
// are. Callers pass the number of elements the data can actually hold as limit, so
// nothing is allocated for a shape the bytes cannot back.
func numElements(shape []int, limit uint64) (n uint64, ok bool) {
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			return 0, true
		}
	}
	for _, d := range shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > limit {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// maxElements bounds the element count of any one tensor so its byte size fits an int64.
const maxElements = math.MaxInt64 / 4
