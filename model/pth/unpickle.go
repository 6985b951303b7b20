package pth

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// DType is the element type of a storage.
type DType uint8

// The storage types PyTorch pickles as torch.<Name>Storage. Float types become
// float32; Int64 is accepted for num_batches_tracked only; the others are recognised so
// that the error can name them.
const (
	Float32 DType = iota + 1
	Float64
	Float16
	BFloat16
	Int64
	Int32
	Int16
	Int8
	Uint8
	Bool
)

var dtypes = [...]struct {
	name, storage string
	size          int
}{
	Float32:  {"float32", "FloatStorage", 4},
	Float64:  {"float64", "DoubleStorage", 8},
	Float16:  {"float16", "HalfStorage", 2},
	BFloat16: {"bfloat16", "BFloat16Storage", 2},
	Int64:    {"int64", "LongStorage", 8},
	Int32:    {"int32", "IntStorage", 4},
	Int16:    {"int16", "ShortStorage", 2},
	Int8:     {"int8", "CharStorage", 1},
	Uint8:    {"uint8", "ByteStorage", 1},
	Bool:     {"bool", "BoolStorage", 1},
}

func (d DType) String() string {
	if d == 0 || int(d) >= len(dtypes) {
		return fmt.Sprintf("DType(%d)", int(d))
	}
	return dtypes[d].name
}

// Size is the number of bytes of one element.
func (d DType) Size() int { return dtypes[d].size }

// IsFloat reports whether d converts to float32.
func (d DType) IsFloat() bool { return d == Float32 || d == Float64 || d == Float16 || d == BFloat16 }

// storageClass is what the class finder returns for torch.<Name>Storage: an inert
// marker (neither Callable nor PyNewable, so gopickle cannot call it), which
// PersistentLoad reads the dtype from.
type storageClass struct{ dtype DType }

// rebuildTensor is torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]): it checks that the view lies
// inside the storage and returns a *Tensor without reading any data.
type rebuildTensor struct{}

// rebuildParameter is torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks): a Parameter is its tensor here.
type rebuildParameter struct{}

var (
	_ types.Callable = rebuildTensor{}
	_ types.Callable = rebuildParameter{}
)

// maxDims bounds the rank of a tensor; GANomaly's have at most 4 dimensions.
const maxDims = 16

func (rebuildTensor) Call(args ...any) (any, error) {
	bad := func(format string, a ...any) error {
		return newError(ErrFormat, "malformed tensor: "+format, a...)
	}
	if len(args) < 4 || len(args) > 7 {
		return nil, bad("_rebuild_tensor_v2 with %d arguments", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, bad("its storage is a %s", pythonType(args[0]))
	}
	offset, ok := args[1].(int)
	if !ok || offset < 0 || offset > st.numel {
		return nil, bad("offset %v outside its storage %q of %d elements", args[1], st.key, st.numel)
	}
	shape, err := intTuple(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := intTuple(args[3], "stride")
	if err != nil {
		return nil, err
	}
	if len(shape) != len(stride) {
		return nil, bad("%d sizes but %d strides", len(shape), len(stride))
	}
	// The view must lie inside the storage: for every dimension of size > 1 the
	// stride is at most the storage's length (so that no sum below can overflow), and
	// the last element offset + Σ (size−1)·stride is inside. A view also may not hold
	// more elements than its storage (overlapping, e.g. stride-0, views could),
	// which bounds what materialising it allocates.
	numel, last := 1, offset
	for i, n := range shape {
		s := stride[i]
		if n < 0 || s < 0 {
			return nil, bad("size %v, stride %v: negative", shape, stride)
		}
		if n == 0 {
			numel = 0
			continue
		}
		if n > st.numel || (n > 1 && s > st.numel) {
			return nil, bad("size %v, stride %v do not fit in storage %q of %d elements", shape, stride, st.key, st.numel)
		}
		numel *= n // ≤ st.numel at every step, checked below
		if numel > st.numel {
			return nil, bad("size %v holds more elements than its storage %q (%d): overlapping views are not supported", shape, st.key, st.numel)
		}
		last += (n - 1) * s
	}
	if numel > 0 && last >= st.numel {
		return nil, bad("size %v, stride %v at offset %d reach element %d of storage %q, which has %d", shape, stride, offset, last, st.key, st.numel)
	}
	return &Tensor{DType: st.dtype, Shape: shape, storage: st, offset: offset, stride: stride}, nil
}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, newError(ErrFormat, "malformed parameter: _rebuild_parameter without arguments")
	}
	t, ok := args[0].(*Tensor)
	if !ok {
		return nil, newError(ErrFormat, "malformed parameter: its data is a %s, not a tensor", pythonType(args[0]))
	}
	return t, nil
}

func intTuple(v any, what string) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, newError(ErrFormat, "malformed tensor: its %s is a %s, not a tuple", what, pythonType(v))
	}
	if t.Len() > maxDims {
		return nil, newError(ErrUnsupported, "tensor of %d dimensions: at most %d are supported", t.Len(), maxDims)
	}
	out := make([]int, t.Len())
	for i, x := range *t {
		n, ok := x.(int)
		if !ok {
			return nil, newError(ErrFormat, "malformed tensor: its %s holds a %s", what, pythonType(x))
		}
		out[i] = n
	}
	return out, nil
}

// checkClass is the allow-list: it returns nil for what a state dict may refer to and
// an ErrUnsafe error naming anything else.
func checkClass(module, name string) error {
	switch module + "." + name {
	case "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter":
		return nil
	}
	if module == "torch" && storageDType(name) != 0 {
		return nil
	}
	msg := fmt.Sprintf("checkpoint refers to %s: only state dicts of tensors can be imported (a pickle can run code; this one is refused)", displayName(module+"."+name))
	if module == "__main__" || strings.HasPrefix(module, "torch.nn") || strings.HasPrefix(module, "models") || strings.HasPrefix(module, "lib.") {
		msg += "; it looks like a whole model saved with torch.save(model): save model.state_dict() instead"
	}
	return &Error{Kind: ErrUnsafe, Msg: msg}
}

// displayName shows a name from the file as it is when it looks like a Python dotted
// name, and quoted and shortened otherwise: a hostile file must not be able to send
// terminal escapes or megabytes through an error message.
func displayName(s string) string {
	const maxLen = 200
	plain := len(s) <= maxLen
	for _, r := range s {
		if !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	if len(s) > maxLen {
		return strconv.Quote(s[:maxLen]) + "..."
	}
	return strconv.Quote(s)
}

// gopickleMessage makes an error of gopickle's fit to show: printable and short (some
// of its messages print a whole unpickled value).
func gopickleMessage(err error) string {
	const maxLen = 300
	msg := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, err.Error())
	if len(msg) > maxLen {
		msg = strings.ToValidUTF8(msg[:maxLen], "") + "..."
	}
	return msg
}

func storageDType(name string) DType {
	for d := Float32; int(d) < len(dtypes); d++ {
		if dtypes[d].storage == name {
			return d
		}
	}
	return 0
}

// findClass is the class finder given to gopickle. gopickle resolves three names
// itself before asking it: collections.OrderedDict (which we allow), and
// __builtin__.object and copy_reg._reconstructor (inert Go values, refused by
// scanPickle when named by GLOBAL and by the state-dict checks otherwise).
func findClass(module, name string) (any, error) {
	if err := checkClass(module, name); err != nil {
		return nil, err
	}
	switch module + "." + name {
	case "torch._utils._rebuild_tensor_v2":
		return rebuildTensor{}, nil
	case "torch._utils._rebuild_parameter":
		return rebuildParameter{}, nil
	case "collections.OrderedDict":
		return &types.OrderedDictClass{}, nil
	}
	return &storageClass{dtype: storageDType(name)}, nil
}

// unpickle runs gopickle on one pickle, p, which scanPickle has checked and cut to its
// STOP. persistentLoad resolves storages; nil refuses persistent ids.
func unpickle(p []byte, persistentLoad func(any) (any, error)) (v any, err error) {
	u := pickle.NewUnpickler(bytes.NewReader(p))
	u.FindClass = findClass
	u.PersistentLoad = persistentLoad
	if persistentLoad == nil {
		u.PersistentLoad = func(any) (any, error) {
			return nil, newError(ErrFormat, "malformed checkpoint: unexpected storage reference")
		}
	}
	// gopickle panics on some malformed input that no pre-scan can rule out without
	// running the stack machine: a dict built from an odd number of items, an
	// OrderedDict keyed by bytes (unhashable in Go).
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, newError(ErrFormat, "malformed pickle: the unpickler failed (%s)", gopickleMessage(fmt.Errorf("%v", r)))
		}
	}()
	v, err = u.Load()
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, newError(ErrFormat, "malformed pickle: %s", gopickleMessage(err))
	}
	return v, nil
}

// dictEntry is one key and value of a Python dict or OrderedDict.
type dictEntry struct{ key, value any }

// dictEntries lists the entries of a dict or OrderedDict in order; ok is false for
// anything else.
func dictEntries(v any) (entries []dictEntry, ok bool) {
	switch d := v.(type) {
	case *types.Dict:
		for _, e := range *d {
			entries = append(entries, dictEntry{e.Key, e.Value})
		}
		return entries, true
	case *types.OrderedDict:
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			entries = append(entries, dictEntry{e.Key, e.Value})
		}
		return entries, true
	}
	return nil, false
}

// pythonType names the Python type of an unpickled value, for error messages; it never
// prints the value itself, which may be huge or deeply nested.
func pythonType(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case *types.Tuple:
		return "tuple"
	case *types.List:
		return "list"
	case *types.Dict:
		return "dict"
	case *types.OrderedDict:
		return "OrderedDict"
	case *Tensor:
		return "tensor"
	case *storage:
		return "storage"
	}
	return fmt.Sprintf("%T", v)
}
