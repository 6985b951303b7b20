package pth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// Hand-made pickles and archives for what PyTorch never writes but an attacker can.

// pk builds a pickle opcode by opcode.
type pk struct{ bytes.Buffer }

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }

func (p *pk) str(s string) *pk {
	p.WriteByte('X')
	_ = binary.Write(p, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}

func (p *pk) int(n int64) *pk {
	if n >= 0 && n < 1<<31 {
		p.WriteByte('J')
		_ = binary.Write(p, binary.LittleEndian, int32(n))
		return p
	}
	p.op(0x8a, 8) // LONG1 of 8 bytes
	_ = binary.Write(p, binary.LittleEndian, n)
	return p
}

func (p *pk) global(module, name string) *pk {
	p.WriteString("c" + module + "\n" + name + "\n")
	return p
}

func (p *pk) ints(v ...int64) *pk {
	p.op('(')
	for _, x := range v {
		p.int(x)
	}
	return p.op('t')
}

// tensor pushes _rebuild_tensor_v2(storage key, offset, shape, stride) over a storage
// of numel elements of class (e.g. "FloatStorage").
func (p *pk) tensor(class, key string, numel, offset int64, shape, stride []int64) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", class).str(key).str("cpu").int(numel).op('t', 'Q')
	p.int(offset).ints(shape...).ints(stride...).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

// oneTensor is the pickle of {"w": tensor}.
func oneTensor(class string, numel, offset int64, shape, stride []int64) []byte {
	var p pk
	p.op(0x80, 2, '}').str("w").tensor(class, "0", numel, offset, shape, stride).op('s', '.')
	return p.Bytes()
}

// archive builds a torch.save zip holding pkl as archive/data.pkl and the records.
func archive(t testing.TB, pkl []byte, records map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	add("archive/data.pkl", pkl)
	for name, data := range records {
		add("archive/"+name, data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCraftedTensorViews(t *testing.T) {
	six := map[string][]byte{"data/0": make([]byte, 24)} // 6 float32
	for _, c := range []struct {
		name          string
		numel, offset int64
		shape, stride []int64
		want          string
	}{
		{"fits", 6, 0, []int64{2, 3}, []int64{3, 1}, ""},
		{"transposed view", 6, 0, []int64{3, 2}, []int64{1, 3}, ""},
		{"offset view", 6, 2, []int64{2, 2}, []int64{2, 1}, ""},
		{"scalar", 6, 5, nil, nil, ""},
		{"too long", 6, 0, []int64{7}, []int64{1}, "do not fit in storage"},
		{"past the end", 6, 1, []int64{2, 3}, []int64{3, 1}, "reach element 6"},
		{"offset outside", 6, 7, []int64{1}, []int64{1}, "offset 7 outside"},
		{"stride 0 broadcast", 6, 0, []int64{6, 6}, []int64{0, 1}, "overlapping views are not supported"},
		{"huge dims", 6, 0, []int64{1 << 40, 1 << 40}, []int64{0, 0}, "do not fit"},
		{"negative", 6, 0, []int64{-1}, []int64{1}, "negative"},
		{"shape/stride ranks", 6, 0, []int64{6}, []int64{1, 1}, "1 sizes but 2 strides"},
	} {
		data := archive(t, oneTensor("FloatStorage", c.numel, c.offset, c.shape, c.stride), six)
		ck, err := Read(data)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if _, err := ck.Tensors[0].Float32(); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		checkErr(t, c.name, err, ErrFormat, c.want)
	}
}

// A view reads the right elements in row-major order.
func TestCraftedViewValues(t *testing.T) {
	raw := new(bytes.Buffer)
	for i := range 6 {
		_ = binary.Write(raw, binary.LittleEndian, float32(i))
	}
	data := archive(t, oneTensor("FloatStorage", 6, 0, []int64{3, 2}, []int64{1, 3}), map[string][]byte{"data/0": raw.Bytes()})
	ck, err := Read(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ck.Tensors[0].Float32()
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 3, 1, 4, 2, 5}; !equal(got, want) {
		t.Errorf("transposed view read %v, want %v", got, want)
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCraftedStorages(t *testing.T) {
	six := map[string][]byte{"data/0": make([]byte, 24)}
	// A storage of 2^40 elements is refused before anything is allocated.
	_, err := Read(archive(t, oneTensor("FloatStorage", 1<<40, 0, []int64{1}, []int64{1}), six))
	checkErr(t, "huge storage", err, ErrTooLarge, "more than 1024 MiB")
	_, err = Read(archive(t, oneTensor("FloatStorage", 6, 0, []int64{6}, []int64{1}), nil))
	checkErr(t, "missing record", err, ErrFormat, `storage "0" has no record archive/data/0`)
	_, err = Read(archive(t, oneTensor("FloatStorage", 7, 0, []int64{6}, []int64{1}), six))
	checkErr(t, "short record", err, ErrFormat, "declares 7 elements of float32 (28 bytes) but its record holds 24 bytes")
	_, err = Read(archive(t, oneTensor("ComplexFloatStorage", 6, 0, []int64{6}, []int64{1}), six))
	checkErr(t, "complex", err, ErrUnsafe, "torch.ComplexFloatStorage")
	// The same key declared with two types.
	var q pk
	q.op(0x80, 2, '}', '(').str("a").tensor("FloatStorage", "0", 6, 0, []int64{6}, []int64{1})
	q.str("b").tensor("LongStorage", "0", 3, 0, []int64{3}, []int64{1}).op('u', '.')
	_, err = Read(archive(t, q.Bytes(), six))
	checkErr(t, "two types", err, ErrFormat, `storage "0" is declared twice`)
	// A TorchScript archive.
	_, err = Read(archive(t, oneTensor("FloatStorage", 6, 0, []int64{6}, []int64{1}), map[string][]byte{"constants.pkl": {0x80, 2, ')', '.'}}))
	checkErr(t, "torchscript", err, ErrUnsupported, "TorchScript")
	_, err = Read(archive(t, oneTensor("FloatStorage", 6, 0, []int64{6}, []int64{1}), map[string][]byte{"data/0": make([]byte, 24), "byteorder": []byte("big")}))
	checkErr(t, "big-endian", err, ErrUnsupported, "little-endian")
}

// Length-prefixed opcodes that claim more bytes than follow are refused by the
// pre-scan, before gopickle allocates what they claim; so are the opcodes on which
// gopickle would panic or take quadratic time.
func TestCraftedPickles(t *testing.T) {
	u32 := func(op byte, n uint32) []byte { return binary.LittleEndian.AppendUint32([]byte{0x80, 2, op}, n) }
	u64 := func(op byte, n uint64) []byte { return binary.LittleEndian.AppendUint64([]byte{0x80, 4, op}, n) }
	for _, c := range []struct {
		name string
		pkl  []byte
		kind error
		want string
	}{
		{"BINUNICODE 4 GiB", u32('X', 0xffffffff), ErrFormat, "BINUNICODE claims 4294967295 bytes, only 0 follow"},
		{"BINBYTES 2 GiB", append(u32('B', 1<<31), "abc."...), ErrFormat, "BINBYTES claims 2147483648 bytes, only 4 follow"},
		{"BINUNICODE8 2^63", u64(0x8d, 1<<63), ErrFormat, "BINUNICODE8 claims"},
		{"BINBYTES8 2^64-1", u64(0x8e, 1<<64-1), ErrFormat, "BINBYTES8 claims"},
		{"BYTEARRAY8", u64(0x96, 1<<40), ErrFormat, "BYTEARRAY8 claims"},
		{"FRAME 1 TiB", u64(0x95, 1<<40), ErrFormat, "FRAME claims"},
		{"BINSTRING negative", u32('T', 0x80000000), ErrFormat, "negative length"},
		{"LONG4 negative", u32(0x8b, 0xffffffff), ErrFormat, "negative length"},
		{"LONG4 long", append(u32(0x8b, 1000), make([]byte, 1001)...), ErrFormat, "LONG4 of 1000 bytes"},
		{"LONG1 empty", []byte{0x80, 2, 0x8a, 0, '.'}, ErrFormat, "LONG1 of 0 bytes"},
		{"LONG line", append(append([]byte("L"), bytes.Repeat([]byte("9"), 5000)...), "\n."...), ErrFormat, "longer than 1024 bytes"},
		{"unknown opcode", []byte{0x80, 2, 0xff}, ErrFormat, "unknown opcode 0xff"},
		{"no STOP", []byte{0x80, 2, '}'}, ErrFormat, "truncated pickle"},
		{"GLOBAL without newline", []byte("cos\nsystem"), ErrFormat, "not terminated"},
		{"many MARKs", bytes.Repeat([]byte{'('}, 1<<20), ErrTooLarge, "more than 64 MiB of objects"},
		{"GLOBAL os.system", []byte("cos\nsystem\n(S'echo hi'\ntR."), ErrUnsafe, "checkpoint refers to os.system"},
		{"INST subprocess", []byte("(S'ls'\nisubprocess\ncall\n."), ErrUnsafe, "subprocess.call"},
		{"GLOBAL getattr", []byte("c__builtin__\ngetattr\n."), ErrUnsafe, "__builtin__.getattr"},
		{"GLOBAL object", []byte("c__builtin__\nobject\n."), ErrUnsafe, "__builtin__.object"},
		{"copy_reg", []byte("ccopy_reg\n_reconstructor\n."), ErrUnsafe, "copy_reg._reconstructor"},
		{"STACK_GLOBAL os.system", []byte("\x80\x04\x8c\x02os\x8c\x06system\x93."), ErrUnsafe, "checkpoint refers to os.system"},
		{"STACK_GLOBAL torch.nn", []byte("\x80\x04\x8c\x08torch.nn\x8c\x06Linear\x93."), ErrUnsafe, "torch.nn.Linear"},
		{"odd DICT", []byte("(K\x01d."), ErrFormat, "the unpickler failed"},
		{"odd SETITEMS", []byte("}(K\x01u."), ErrFormat, "the unpickler failed"},
		{"bytes key in OrderedDict", []byte("ccollections\nOrderedDict\n)RC\x01aK\x01s."), ErrFormat, "the unpickler failed"},
		{"REDUCE of a storage class", []byte("ctorch\nFloatStorage\n)R."), ErrFormat, "REDUCE requires a Callable"},
		{"EXT1", []byte{0x80, 2, 0x82, 1, '.'}, ErrFormat, "extension"},
		{"persistent id", []byte("Pfoo\n."), ErrFormat, "malformed storage reference"},
		{"list", []byte("]."), ErrNotGenerator, "holds a list, not a state dict"},
		{"dict of ints", []byte("}X\x01\x00\x00\x00aK\x01s."), ErrNotGenerator, `entry "a" is a int, not a tensor`},
		{"int key", []byte("}K\x01K\x01s."), ErrNotGenerator, "key of type int"},
		{"bytes key", []byte("}C\x01aK\x01s."), ErrNotGenerator, "key of type bytes"},
		{"epoch str", []byte("}(X\x05\x00\x00\x00epochX\x01\x00\x00\x00xX\x0a\x00\x00\x00state_dict}u."), ErrFormat, "epoch is a str"},
		{"empty", []byte("}."), ErrNotGenerator, "empty"},
		{"escape in a name", []byte("cos\x1b[31m\nsystem\n."), ErrUnsafe, `"os\x1b[31m.system"`},
		{"long name", append(append([]byte("\x80\x04\x8c\x02os\x8d"), binary.LittleEndian.AppendUint64(nil, 1<<20)...), append(bytes.Repeat([]byte("a"), 1<<20), 0x93, '.')...), ErrUnsafe, `"os.aaaa`},
		{"long value in a gopickle error", append(append([]byte("\x80\x04\x8d"), binary.LittleEndian.AppendUint64(nil, 1<<20)...), append(bytes.Repeat([]byte("\x1b"), 1<<20), ')', 'R', '.')...), ErrFormat, `REDUCE requires a Callable object: "\x1b\x1b`},
	} {
		_, err := Read(archive(t, c.pkl, nil))
		checkErr(t, c.name, err, c.kind, c.want)
		if err != nil && len(err.Error()) > 600 {
			t.Errorf("%s: error of %d bytes", c.name, len(err.Error()))
		}
	}
}

// A legacy file whose storage count disagrees with its pickle.
func TestCraftedLegacy(t *testing.T) {
	b := readFixture(t, "b_legacy.pth")
	// The first storage's int64 element count follows the storage-key list's STOP.
	keys := bytes.Index(b, []byte("]q\x00("))
	if keys < 0 {
		t.Fatal("no storage key list in b_legacy.pth")
	}
	n, err := scanPickle(b[keys-2:])
	if err != nil {
		t.Fatal(err)
	}
	at := keys - 2 + n
	bad := bytes.Clone(b)
	binary.LittleEndian.PutUint64(bad[at:], 1<<50)
	_, err = Read(bad)
	checkErr(t, "legacy count", err, ErrFormat, "in the pickle but 1125899906842624 in the data")
	_, err = Read(append(bytes.Clone(b), 0))
	checkErr(t, "legacy trailing", err, ErrFormat, "1 bytes after the last storage")
	magic := bytes.Clone(b)
	magic[5] ^= 1
	_, err = Read(magic)
	checkErr(t, "legacy magic", err, ErrFormat, "magic number")
	if !strings.HasPrefix(string(b), "\x80\x02\x8a\x0a") {
		t.Errorf("b_legacy.pth starts with %q", b[:4])
	}
}
