package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/big"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// Limits on what Read accepts.
const (
	// MaxFileSize is the largest checkpoint Read accepts.
	MaxFileSize = 1 << 30
	// MaxPickleSize bounds the pickle of a zip checkpoint (data.pkl). A GANomaly state
	// dict's is a few kilobytes whatever the width: it holds names and shapes only.
	MaxPickleSize = 16 << 20
	// MaxTensorBytes bounds the storages a checkpoint may declare, in all.
	MaxTensorBytes = 1 << 30
)

// Checkpoint is the content of a torch.save file holding a state dict.
type Checkpoint struct {
	// Format is "zip" (PyTorch ≥ 1.6) or "legacy".
	Format string
	// Epoch is the "epoch" entry of an official {"epoch", "state_dict"} checkpoint;
	// HasEpoch is false for a bare state dict.
	Epoch    int
	HasEpoch bool
	// Tensors are the state dict's entries in its order, with their names as stored.
	Tensors []*Tensor
}

// Tensor is one entry of a state dict: its shape and dtype, and where its values lie.
// Read checks that the view lies inside its storage but reads no values; Float32 does.
type Tensor struct {
	Name  string
	DType DType
	Shape []int

	storage *storage
	offset  int   // in elements
	stride  []int // in elements, one per dimension
}

// Len is the number of elements, the product of Shape (1 for a scalar).
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32 reads the tensor's values in row-major order, converted to float32 from
// float64, float16 or bfloat16 (float64 values beyond float32's range become ±Inf).
func (t *Tensor) Float32() ([]float32, error) {
	if !t.DType.IsFloat() {
		return nil, newError(ErrUnsupported, "tensor %q has dtype %s, not a floating-point type", t.Name, t.DType)
	}
	raw, err := t.storage.bytes()
	if err != nil {
		return nil, err
	}
	size := t.DType.Size()
	var decode func(b []byte) float32
	switch t.DType {
	case Float32:
		decode = func(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }
	case Float64:
		decode = func(b []byte) float32 { return float32(math.Float64frombits(binary.LittleEndian.Uint64(b))) }
	case Float16:
		decode = func(b []byte) float32 { return halfToFloat32(binary.LittleEndian.Uint16(b)) }
	case BFloat16:
		decode = func(b []byte) float32 { return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16) }
	}
	out := make([]float32, t.Len())
	// Walk the multi-index in row-major order; elem is the storage index of out[i].
	idx := make([]int, len(t.Shape))
	elem := t.offset
	for i := range out {
		out[i] = decode(raw[elem*size : elem*size+size])
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			elem += t.stride[d]
			if idx[d] < t.Shape[d] {
				break
			}
			elem -= idx[d] * t.stride[d]
			idx[d] = 0
		}
	}
	return out, nil
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal: frac·2^-24.
	v := float32(frac) * (1.0 / (1 << 24))
	if sign != 0 {
		v = -v
	}
	return v
}

// storage is one torch storage: numel elements of dtype, whose bytes are read on first
// use.
type storage struct {
	key   string
	dtype DType
	numel int
	load  func() ([]byte, error)
	raw   []byte
	err   error
	done  bool
}

func (s *storage) bytes() ([]byte, error) {
	if !s.done {
		s.raw, s.err = s.load()
		s.done = true
		if s.err == nil && len(s.raw) != s.numel*s.dtype.Size() {
			s.err = newError(ErrFormat, "storage %q holds %d bytes, want %d", s.key, len(s.raw), s.numel*s.dtype.Size())
		}
	}
	return s.raw, s.err
}

// storages keeps the storages a pickle declares, and their total size.
type storages struct {
	byKey map[string]*storage
	total int64
}

// declare records a storage named in a persistent id, or returns the one already
// declared under key. It checks the size against the limits, not against the data.
func (ss *storages) declare(class any, key string, numel any) (*storage, error) {
	sc, ok := class.(*storageClass)
	if !ok {
		return nil, newError(ErrFormat, "malformed storage reference: its type is a %s", pythonType(class))
	}
	n, ok := numel.(int)
	if !ok || n < 0 {
		return nil, newError(ErrFormat, "malformed storage reference: %s elements", pythonType(numel))
	}
	if s, ok := ss.byKey[key]; ok {
		if s.dtype != sc.dtype || s.numel != n {
			return nil, newError(ErrFormat, "storage %q is declared twice, as %d %s and as %d %s", key, s.numel, s.dtype, n, sc.dtype)
		}
		return s, nil
	}
	if n > MaxTensorBytes/sc.dtype.Size() {
		return nil, newError(ErrTooLarge, "storage %q declares %d elements of %s, more than %d MiB", key, n, sc.dtype, MaxTensorBytes>>20)
	}
	ss.total += int64(n * sc.dtype.Size())
	if ss.total > MaxTensorBytes {
		return nil, newError(ErrTooLarge, "the storages declare more than %d MiB in all", MaxTensorBytes>>20)
	}
	s := &storage{key: key, dtype: sc.dtype, numel: n}
	ss.byKey[key] = s
	return s, nil
}

// persistentID unpacks ("storage", class, key, location, numel, ...) and checks its
// length: 5 in the zip format, 6 (with view metadata) in the legacy one.
func persistentID(pid any, want int) (*types.Tuple, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() == 0 {
		return nil, newError(ErrFormat, "malformed storage reference: a %s", pythonType(pid))
	}
	if kind, _ := t.Get(0).(string); kind != "storage" {
		if kind == "module" {
			return nil, newError(ErrUnsupported, "the checkpoint holds a whole pickled module: save model.state_dict() instead")
		}
		return nil, newError(ErrFormat, "malformed storage reference: kind %q", kind)
	}
	if t.Len() != want {
		return nil, newError(ErrFormat, "malformed storage reference of %d fields, want %d", t.Len(), want)
	}
	if _, ok := t.Get(2).(string); !ok {
		return nil, newError(ErrFormat, "malformed storage reference: its key is a %s", pythonType(t.Get(2)))
	}
	return t, nil
}

// Read parses a torch.save file held in memory. It refuses anything but a state dict
// (see the package documentation); the tensors' values are read by Tensor.Float32.
func Read(data []byte) (*Checkpoint, error) {
	if len(data) > MaxFileSize {
		return nil, newError(ErrTooLarge, "the file is %d bytes, more than the limit of %d MiB", len(data), MaxFileSize>>20)
	}
	var (
		obj    any
		format string
		err    error
	)
	switch {
	case len(data) == 0:
		return nil, newError(ErrFormat, "the file is empty")
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		format = "zip"
		obj, err = readZip(data)
	case data[0] == 0x80:
		format = "legacy"
		obj, err = readLegacy(data)
	case len(data) >= 262 && string(data[257:262]) == "ustar":
		return nil, newError(ErrUnsupported, "this is a tar archive, the checkpoint format of PyTorch before 0.4: load it with an old PyTorch and save the state dict again")
	default:
		return nil, newError(ErrFormat, "not a PyTorch checkpoint: neither a zip archive (torch.save since PyTorch 1.6) nor a pickle stream (older torch.save)")
	}
	if err != nil {
		return nil, err
	}
	c, err := checkpointFrom(obj)
	if err != nil {
		return nil, err
	}
	c.Format = format
	return c, nil
}

// isStr reports whether v is the string s. (Comparing v == s would panic when v holds
// an uncomparable value, such as the []byte of a BINBYTES key.)
func isStr(v any, s string) bool {
	str, ok := v.(string)
	return ok && str == s
}

// checkpointFrom finds the state dict in the unpickled object.
func checkpointFrom(obj any) (*Checkpoint, error) {
	c := &Checkpoint{}
	entries, ok := dictEntries(obj)
	if !ok {
		return nil, newError(ErrNotGenerator, "the checkpoint holds a %s, not a state dict", pythonType(obj))
	}
	// {"epoch": int, "state_dict": {...}} as the official code saves netG.pth.
	for _, e := range entries {
		if isStr(e.key, "state_dict") {
			sd := e.value
			for _, e := range entries {
				if isStr(e.key, "epoch") {
					if c.Epoch, c.HasEpoch = e.value.(int); !c.HasEpoch {
						return nil, newError(ErrFormat, "the checkpoint's epoch is a %s, not an int", pythonType(e.value))
					}
				}
			}
			if entries, ok = dictEntries(sd); !ok {
				return nil, newError(ErrNotGenerator, "the checkpoint's state_dict is a %s, not a dict of tensors", pythonType(sd))
			}
			break
		}
	}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		name, ok := e.key.(string)
		if !ok {
			return nil, newError(ErrNotGenerator, "the state dict has a key of type %s: a state dict is keyed by tensor names", pythonType(e.key))
		}
		t, ok := e.value.(*Tensor)
		if !ok {
			return nil, newError(ErrNotGenerator, "state dict entry %q is a %s, not a tensor", name, pythonType(e.value))
		}
		if seen[name] {
			return nil, newError(ErrFormat, "the state dict holds %q twice", name)
		}
		seen[name] = true
		named := *t // the same tensor object may be memoised under several names
		named.Name = name
		c.Tensors = append(c.Tensors, &named)
	}
	if len(c.Tensors) == 0 {
		return nil, newError(ErrNotGenerator, "the state dict is empty")
	}
	return c, nil
}

// readZip reads the zip format: <prefix>/data.pkl and the storages <prefix>/data/<key>.
func readZip(data []byte) (any, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, newError(ErrFormat, "damaged zip archive (truncated?): %v", err)
	}
	records := make(map[string]*zip.File, len(zr.File))
	var pkl *zip.File
	for _, f := range zr.File {
		if _, dup := records[f.Name]; dup {
			return nil, newError(ErrFormat, "the archive holds %q twice", f.Name)
		}
		records[f.Name] = f
		dir, base := path.Split(f.Name)
		switch {
		case base == "constants.pkl":
			return nil, newError(ErrUnsupported, "this is a TorchScript archive (torch.jit.save): save the model's state_dict with torch.save instead")
		case base == "data.pkl" && strings.Count(dir, "/") == 1:
			if pkl != nil {
				return nil, newError(ErrFormat, "the archive holds two pickles, %q and %q", pkl.Name, f.Name)
			}
			pkl = f
		}
	}
	if pkl == nil {
		return nil, newError(ErrFormat, "a zip archive without <name>/data.pkl: not a torch.save file")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if f, ok := records[prefix+"byteorder"]; ok { // PyTorch ≥ 2.1
		if f.UncompressedSize64 > 16 {
			return nil, newError(ErrFormat, "record %q of %d bytes: want \"little\" or \"big\"", f.Name, f.UncompressedSize64)
		}
		order, err := readRecord(f, int(f.UncompressedSize64))
		if err != nil {
			return nil, err
		}
		if string(order) != "little" {
			return nil, newError(ErrUnsupported, "the checkpoint was saved on a %q-endian machine; only little-endian is supported", order)
		}
	}
	if pkl.UncompressedSize64 > MaxPickleSize {
		return nil, newError(ErrTooLarge, "its pickle is %d bytes, more than %d MiB: not a state dict", pkl.UncompressedSize64, MaxPickleSize>>20)
	}
	p, err := readRecord(pkl, int(pkl.UncompressedSize64))
	if err != nil {
		return nil, err
	}
	n, err := scanPickle(p)
	if err != nil {
		return nil, err
	}
	ss := &storages{byKey: map[string]*storage{}}
	return unpickle(p[:n], func(pid any) (any, error) {
		t, err := persistentID(pid, 5)
		if err != nil {
			return nil, err
		}
		key := t.Get(2).(string)
		s, err := ss.declare(t.Get(1), key, t.Get(4))
		if err != nil || s.load != nil {
			return s, err
		}
		f, ok := records[prefix+"data/"+key]
		if !ok {
			return nil, newError(ErrFormat, "storage %q has no record %sdata/%s in the archive", key, prefix, key)
		}
		want := uint64(s.numel * s.dtype.Size())
		if f.Method != zip.Store {
			return nil, newError(ErrUnsupported, "record %q is compressed (method %d): torch.save stores records uncompressed; save the checkpoint again with torch.save", f.Name, f.Method)
		}
		if f.UncompressedSize64 != want {
			return nil, newError(ErrFormat, "storage %q declares %d elements of %s (%d bytes) but its record holds %d bytes", key, s.numel, s.dtype, want, f.UncompressedSize64)
		}
		s.load = func() ([]byte, error) { return readRecord(f, int(want)) }
		return s, nil
	})
}

// readRecord reads an archive entry of exactly n bytes, which the caller has checked
// against the entry's declared size and the limits; reading to its end makes the zip
// reader verify the size and the checksum.
func readRecord(f *zip.File, n int) ([]byte, error) {
	if f.UncompressedSize64 != uint64(n) {
		return nil, newError(ErrFormat, "record %q holds %d bytes, want %d", f.Name, f.UncompressedSize64, n)
	}
	// torch.save stores every record uncompressed; refusing compression keeps what a
	// record can make us allocate within the file's own size.
	if f.Method != zip.Store {
		return nil, newError(ErrUnsupported, "record %q is compressed (method %d): torch.save stores records uncompressed; save the checkpoint again with torch.save", f.Name, f.Method)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, newError(ErrFormat, "record %q: %v", f.Name, err)
	}
	defer rc.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, newError(ErrFormat, "record %q is damaged or truncated: %v", f.Name, err)
	}
	if extra, err := io.ReadAll(io.LimitReader(rc, 1)); err != nil || len(extra) > 0 {
		return nil, newError(ErrFormat, "record %q is damaged: %v", f.Name, errOr(err, "longer than declared"))
	}
	return buf, nil
}

func errOr(err error, otherwise string) string {
	if err != nil {
		return err.Error()
	}
	return otherwise
}

// legacyMagic and legacyProtocol open every legacy torch.save file.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

const legacyProtocol = 1001

// readLegacy reads the format of torch.save before PyTorch 1.6: five pickles (magic
// number, protocol version, system information, the object, the storage keys), then
// for each key the storage's element count (int64) and bytes.
func readLegacy(data []byte) (any, error) {
	pos := 0
	next := func(what string, persistentLoad func(any) (any, error)) (any, error) {
		n, err := scanPickle(data[pos:])
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Kind == ErrFormat {
				e.Msg = what + ": " + e.Msg
			}
			return nil, err
		}
		v, err := unpickle(data[pos:pos+n], persistentLoad)
		pos += n
		return v, err
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return nil, err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, newError(ErrFormat, "not a PyTorch checkpoint: a pickle without torch.save's magic number")
	}
	version, err := next("protocol version", nil)
	if err != nil {
		return nil, err
	}
	if v, ok := version.(int); !ok || v != legacyProtocol {
		return nil, newError(ErrUnsupported, "legacy checkpoint of protocol version %v, want %d", version, legacyProtocol)
	}
	sysInfo, err := next("system information", nil)
	if err != nil {
		return nil, err
	}
	info, _ := dictEntries(sysInfo)
	for _, e := range info {
		if little, ok := e.value.(bool); isStr(e.key, "little_endian") && !(ok && little) {
			return nil, newError(ErrUnsupported, "the checkpoint was saved on a big-endian machine; only little-endian is supported")
		}
	}
	ss := &storages{byKey: map[string]*storage{}}
	obj, err := next("state dict", func(pid any) (any, error) {
		t, err := persistentID(pid, 6)
		if err != nil {
			return nil, err
		}
		if t.Get(5) != nil {
			return nil, newError(ErrUnsupported, "storage views of old PyTorch versions are not supported: load the checkpoint with PyTorch and save it again")
		}
		return ss.declare(t.Get(1), t.Get(2).(string), t.Get(4))
	})
	if err != nil {
		return nil, err
	}
	keyList, err := next("storage keys", nil)
	if err != nil {
		return nil, err
	}
	keys, ok := keyList.(*types.List)
	if !ok {
		return nil, newError(ErrFormat, "malformed legacy checkpoint: its storage keys are a %s, not a list", pythonType(keyList))
	}
	for _, k := range *keys {
		key, ok := k.(string)
		s := ss.byKey[key]
		if !ok || s == nil {
			return nil, newError(ErrFormat, "malformed legacy checkpoint: storage key %v is not one the tensors refer to", k)
		}
		if s.done {
			return nil, newError(ErrFormat, "malformed legacy checkpoint: storage %q is stored twice", key)
		}
		if len(data)-pos < 8 {
			return nil, newError(ErrFormat, "truncated checkpoint: storage %q is missing", key)
		}
		n := binary.LittleEndian.Uint64(data[pos:])
		pos += 8
		if n != uint64(s.numel) {
			return nil, newError(ErrFormat, "storage %q declares %d elements in the pickle but %d in the data", key, s.numel, n)
		}
		size := s.numel * s.dtype.Size()
		if size > len(data)-pos {
			return nil, newError(ErrFormat, "truncated checkpoint: storage %q needs %d bytes, %d left", key, size, len(data)-pos)
		}
		s.raw, s.done = data[pos:pos+size:pos+size], true
		pos += size
	}
	for key, s := range ss.byKey {
		if !s.done {
			return nil, newError(ErrFormat, "truncated checkpoint: storage %q has no data", key)
		}
	}
	if pos != len(data) {
		return nil, newError(ErrFormat, "malformed legacy checkpoint: %d bytes after the last storage", len(data)-pos)
	}
	return obj, nil
}
