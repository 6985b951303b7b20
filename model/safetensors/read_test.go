package safetensors

import (
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// raw builds a file from a header string, unpadded, and data bytes.
func raw(header string, data ...byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

// f32s encodes values as little-endian float32 bytes.
func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func zeros(n int) []byte { return make([]byte, n) }

// t1 is the header entry of a tensor named name.
func t1(name, dtype, shape, offsets string) string {
	return `"` + name + `":{"dtype":"` + dtype + `","shape":` + shape + `,"data_offsets":` + offsets + `}`
}

type malformedCase struct {
	name string // also the seed corpus file name
	data []byte
	kind error
	want []string // substrings the error message must contain
}

// malformedCases are files Read must reject, one per check, with the error kind and
// the words that tell the user what and where.
func malformedCases() []malformedCase {
	hugeLen := binary.LittleEndian.AppendUint64(nil, 1e12)
	hugeLen = append(hugeLen, zeros(4088)...)
	return []malformedCase{
		{"empty-file", nil, ErrTruncated, []string{"0 bytes", "8-byte header length"}},
		{"short-file", []byte{1, 2, 3, 4, 5}, ErrTruncated, []string{"5 bytes"}},
		{"header-length-huge", hugeLen, ErrTruncated, []string{"header length 1000000000000 exceeds file size 4096"}},
		{"header-truncated", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32s(1)...)[:30], ErrTruncated, []string{"truncated file", "header length 54", "at least 62 bytes"}},
		{"header-empty", raw(""), ErrMalformed, []string{"header is empty"}},
		{"header-blank", raw("        "), ErrMalformed, []string{"header is empty"}},
		{"header-not-utf8", raw("{\"a\xff\":1}"), ErrMalformed, []string{"not valid UTF-8", "0xff", "header offset 3"}},
		{"json-cut", raw(`{"a":`), ErrMalformed, []string{"invalid JSON", "unexpected end"}},
		{"json-syntax", raw(`{"a" 1}`), ErrMalformed, []string{"invalid JSON", "header offset"}},
		{"json-trailing-comma", raw(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},}`, f32s(1)...), ErrMalformed, []string{"invalid JSON", "header offset 53"}},
		{"header-array", raw(`[]`), ErrMalformed, []string{"not a JSON object", "an array"}},
		{"header-string", raw(`"x"`), ErrMalformed, []string{"not a JSON object", `the string "x"`}},
		{"header-number", raw(`42`), ErrMalformed, []string{"not a JSON object", "the number 42"}},
		{"trailing-object", raw(`{}{}`), ErrMalformed, []string{"after the header object", "header offset 2"}},
		{"trailing-nul-padding", raw("{}\x00\x00\x00\x00\x00\x00"), ErrMalformed, []string{`'\x00'`, "header offset 2", "only whitespace"}},
		{"trailing-garbage", raw(`{}  x`), ErrMalformed, []string{`'x'`, "header offset 4"}},
		{"duplicate-tensor", raw(`{`+t1("a", "F32", "[1]", "[0,4]")+`,`+t1("a", "F32", "[1]", "[4,8]")+`}`, f32s(1, 2)...), ErrMalformed, []string{`duplicate tensor name "a"`, "header offset 54"}},
		{"duplicate-tensor-escaped", raw(`{`+t1("a", "F32", "[1]", "[0,4]")+`,`+t1(`\u0061`, "F32", "[1]", "[4,8]")+`}`, f32s(1, 2)...), ErrMalformed, []string{`duplicate tensor name "a"`}},
		{"duplicate-metadata", raw(`{"__metadata__":{},"__metadata__":{}}`), ErrMalformed, []string{`duplicate "__metadata__"`}},
		{"duplicate-metadata-key", raw(`{"__metadata__":{"k":"1","k":"2"}}`), ErrMalformed, []string{`duplicate key "k"`}},
		{"duplicate-field", raw(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, `duplicate field "dtype"`, "header offset 20"}},
		{"empty-name", raw(`{`+t1("", "F32", "[1]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{"empty tensor name", "header offset 1"}},
		{"entry-not-object", raw(`{"a":[1]}`), ErrMalformed, []string{`tensor "a"`, "an array", "want an object"}},
		{"missing-dtype", raw(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, `missing field "dtype"`}},
		{"missing-shape", raw(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, `missing field "shape"`}},
		{"missing-offsets", raw(`{"a":{"dtype":"F32","shape":[1]}}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, `missing field "data_offsets"`}},
		{"unknown-field", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"foo":1}}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, `unknown field "foo"`}},
		{"dtype-not-string", raw(`{"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, "dtype", "the number 32"}},
		{"dtype-unknown", raw(`{`+t1("a", "F33", "[1]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, `unknown dtype "F33"`}},
		{"dtype-f16", raw(`{`+t1("a", "F16", "[2]", "[0,4]")+`}`, zeros(4)...), ErrUnsupportedDtype, []string{`tensor "a" has dtype F16`, "only F32"}},
		{"dtype-f32-lowercase", raw(`{`+t1("a", "f32", "[1]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{`unknown dtype "f32"`}},
		{"shape-not-array", raw(`{`+t1("a", "F32", "4", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, "shape", "the number 4", "want an array"}},
		{"shape-negative", raw(`{`+t1("a", "F32", "[-1,2]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, "negative shape dimension -1"}},
		{"shape-float", raw(`{`+t1("a", "F32", "[1.5]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, "shape element 1.5", "not a non-negative integer"}},
		{"shape-exponent", raw(`{`+t1("a", "F32", "[1e0]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{"shape element 1e0", "not a non-negative integer"}},
		{"shape-string", raw(`{`+t1("a", "F32", `["1"]`, "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{"shape element", `the string "1"`}},
		{"shape-dim-too-large", raw(`{`+t1("a", "F32", "[99999999999999999999]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{"shape element 99999999999999999999", "too large"}},
		{"shape-overflow", raw(`{`+t1("a", "F32", "[4294967296,4294967296]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, "shape [4294967296 4294967296]", "overflows"}},
		{"shape-overflow-by-4", raw(`{`+t1("a", "F32", "[4611686018427387904]", "[0,4]")+`}`, f32s(1)...), ErrMalformed, []string{"overflows"}},
		{"shape-size-mismatch", raw(`{`+t1("x.weight", "F32", "[5,5]", "[0,96]")+`}`, zeros(96)...), ErrMalformed, []string{`tensor "x.weight"`, "data_offsets [0 96] cover 96 bytes but shape [5 5] of F32 needs 100"}},
		{"offsets-count", raw(`{`+t1("a", "F32", "[1]", "[4]")+`}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, "data_offsets [4] is not a [begin, end] pair"}},
		{"offsets-negative", raw(`{`+t1("a", "F32", "[1]", "[-4,0]")+`}`, f32s(1)...), ErrMalformed, []string{`tensor "a"`, "negative data_offsets element -4"}},
		{"offsets-begin-after-end", raw(`{`+t1("a", "F32", "[1]", "[8,4]")+`}`, zeros(8)...), ErrMalformed, []string{`tensor "a"`, "data_offsets [8 4] have begin > end"}},
		{"offsets-out-of-range", raw(`{`+t1("a", "F32", "[4]", "[0,16]")+`}`, zeros(8)...), ErrTruncated, []string{"truncated file", `tensor "a"`, "[0 16]", "past the end of the 8-byte data buffer"}},
		{"data-cut-off", raw(`{`+t1("a", "F32", "[2]", "[0,8]")+`,`+t1("b", "F32", "[2]", "[8,16]")+`}`, zeros(12)...), ErrTruncated, []string{"truncated file", `tensor "b"`, "[8 16]", "12-byte data buffer"}},
		{"offsets-overlap", raw(`{`+t1("a", "F32", "[2]", "[0,8]")+`,`+t1("b", "F32", "[2]", "[4,12]")+`}`, zeros(12)...), ErrMalformed, []string{`tensor "b"`, `overlap tensor "a"`}},
		{"offsets-same-range", raw(`{`+t1("a", "F32", "[1]", "[0,4]")+`,`+t1("b", "F32", "[1]", "[0,4]")+`}`, zeros(4)...), ErrMalformed, []string{`tensor "b"`, `overlap tensor "a"`}},
		{"offsets-empty-inside-other", raw(`{`+t1("a", "F32", "[2]", "[0,8]")+`,`+t1("b", "F32", "[0]", "[4,4]")+`}`, zeros(8)...), ErrMalformed, []string{`tensor "b"`, `overlap tensor "a"`}},
		{"offsets-gap", raw(`{`+t1("a", "F32", "[1]", "[0,4]")+`,`+t1("b", "F32", "[1]", "[8,12]")+`}`, zeros(12)...), ErrMalformed, []string{"bytes [4 8] are not covered", `gap before tensor "b"`}},
		{"offsets-gap-at-start", raw(`{`+t1("a", "F32", "[1]", "[4,8]")+`}`, zeros(8)...), ErrMalformed, []string{"bytes [0 4] are not covered"}},
		{"trailing-data", raw(`{`+t1("a", "F32", "[1]", "[0,4]")+`}`, zeros(8)...), ErrMalformed, []string{"bytes [4 8] are not covered", "4 trailing bytes"}},
		{"data-without-tensors", raw(`{}`, zeros(3)...), ErrMalformed, []string{"bytes [0 3] are not covered"}},
		{"metadata-string", raw(`{"__metadata__":"x"}`), ErrMalformed, []string{`"__metadata__"`, `the string "x"`, "want an object of strings"}},
		{"metadata-null", raw(`{"__metadata__":null}`), ErrMalformed, []string{`"__metadata__"`, "null"}},
		{"metadata-value-number", raw(`{"__metadata__":{"epoch":3}}`), ErrMalformed, []string{`value of "epoch"`, "the number 3", "want a string"}},
		{"metadata-value-object", raw(`{"__metadata__":{"cfg":{"a":"b"}}}`), ErrMalformed, []string{`value of "cfg"`, "an object"}},
	}
}

func TestReadMalformed(t *testing.T) {
	for _, c := range malformedCases() {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(c.data)
			if err == nil {
				t.Fatalf("Read accepted %q: %+v", c.data, f)
			}
			t.Log(err)
			if !errors.Is(err, c.kind) {
				t.Errorf("error %q is not %v", err, c.kind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %q is not an *Error", err)
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestReadHeaderTooLarge(t *testing.T) {
	data := raw(`{}      `)
	_, err := read(data, 4)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "header length 8 exceeds the limit of 4 bytes") {
		t.Fatalf("got %v, want ErrTooLarge naming both sizes", err)
	}
	if _, err := read(data, 8); err != nil {
		t.Fatalf("header at the limit: %v", err)
	}
}

func TestReadAcceptsLayoutVariants(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		// Other writers may order keys differently, use whitespace, or store the tensors
		// in an order other than by name.
		{"offsets-not-in-name-order", raw(`{`+t1("a", "F32", "[1]", "[4,8]")+`,`+t1("b", "F32", "[1]", "[0,4]")+`}`, f32s(1, 2)...)},
		{"fields-reordered", raw(`{"a":{"data_offsets":[0,4],"shape":[1],"dtype":"F32"}}`, f32s(2)...)},
		{"whitespace", raw(" {\n\t\"a\" : { \"dtype\" : \"F32\" , \"shape\" : [ 1 ] , \"data_offsets\" : [ 0 , 4 ] } }\r\n ", f32s(1)...)},
		{"metadata-last", raw(`{`+t1("a", "F32", "[1]", "[0,4]")+`,"__metadata__":{"k":"v"}}`, f32s(1)...)},
		{"empty-tensors-anywhere", raw(`{`+t1("a", "F32", "[0]", "[0,0]")+`,`+t1("b", "F32", "[1]", "[0,4]")+`,`+t1("c", "F32", "[2,0]", "[4,4]")+`}`, f32s(1)...)},
		{"zero-dim-with-huge-dims", raw(`{` + t1("a", "F32", "[0,4611686018427387904,4611686018427387904]", "[0,0]") + `}`)},
		{"negative-zero-dim", raw(`{` + t1("a", "F32", "[-0]", "[0,0]") + `}`)},
		{"no-tensors", raw(`{}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Read(c.data)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(f.Tensors); i++ {
				if f.Tensors[i-1].Name >= f.Tensors[i].Name {
					t.Errorf("tensors not sorted by name: %q before %q", f.Tensors[i-1].Name, f.Tensors[i].Name)
				}
			}
		})
	}
	f, _ := Read(cases[0].data)
	if a, _ := f.Tensor("a"); a.Data[0] != 2 {
		t.Errorf("a = %v, want [2] (offsets [4 8])", a.Data)
	}
}

func TestReadDataIsCapped(t *testing.T) {
	f, err := Read(raw(`{`+t1("a", "F32", "[1]", "[0,4]")+`,`+t1("b", "F32", "[1]", "[4,8]")+`}`, f32s(1, 2)...))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := f.Tensor("a")
	_ = append(a.Data, 99)
	if b, _ := f.Tensor("b"); b.Data[0] != 2 {
		t.Fatalf("appending to a overwrote b: %v", b.Data)
	}
}

func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	if err := WriteFile(path, &File{Tensors: []Tensor{{Name: "a", Shape: []int{4}, Data: make([]float32, 4)}}}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFileLimit(path, st.Size()); err != nil {
		t.Fatalf("file at the limit: %v", err)
	}
	_, err = ReadFileLimit(path, st.Size()-1)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want ErrTooLarge naming %s", err, path)
	}

	// Errors from Read carry the path.
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadFile(bad)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "safetensors: "+bad+": truncated file") {
		t.Fatalf("got %v, want ErrTruncated naming %s", err, bad)
	}

	_, err = ReadFile(filepath.Join(dir, "missing"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want os.ErrNotExist", err)
	}
}
