package safetensors

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// equalFiles reports how a and b differ, or "" when they hold the same tensors and
// metadata. Values compare by bits so NaN payloads and -0 count; nil and empty Shape,
// Data and Metadata are equal.
func equalFiles(a, b *File) string {
	if len(a.Tensors) != len(b.Tensors) {
		return "tensor counts differ"
	}
	for i := range a.Tensors {
		x, y := a.Tensors[i], b.Tensors[i]
		if x.Name != y.Name {
			return "names differ: " + x.Name + " vs " + y.Name
		}
		if !slices.Equal(x.Shape, y.Shape) {
			return "shapes of " + x.Name + " differ"
		}
		if len(x.Data) != len(y.Data) {
			return "data lengths of " + x.Name + " differ"
		}
		for j := range x.Data {
			if math.Float32bits(x.Data[j]) != math.Float32bits(y.Data[j]) {
				return "data of " + x.Name + " differ"
			}
		}
	}
	if len(a.Metadata) != len(b.Metadata) {
		return "metadata sizes differ"
	}
	for k, v := range a.Metadata {
		if w, ok := b.Metadata[k]; !ok || v != w {
			return "metadata " + k + " differs"
		}
	}
	return ""
}

func sample() *File {
	return &File{
		Tensors: []Tensor{
			{Name: "enc.conv1.weight", Shape: []int{2, 1, 2, 2}, Data: []float32{1, 2, 3, 4, -5, 6.5, 1e-30, 3e38}},
			{Name: "bias", Shape: []int{3}, Data: []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))}},
			{Name: "nan", Shape: []int{2}, Data: []float32{math.Float32frombits(0x7fc00001), math.Float32frombits(0xffbfffff)}},
			{Name: "scalar", Shape: []int{}, Data: []float32{42}},
			{Name: "empty", Shape: []int{0}, Data: []float32{}},
			{Name: "empty2d", Shape: []int{3, 0}, Data: nil},
			{Name: "ünï \"quoted\"\n<&>", Shape: []int{1}, Data: []float32{7}},
		},
		Metadata: map[string]string{"format": "pt", "config": `{"nz":100}`, "": "empty key", "ctl": "\x01\x1f\x7f"},
	}
}

func TestRoundTrip(t *testing.T) {
	in := sample()
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	out, err := Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := &File{Tensors: slices.Clone(in.Tensors), Metadata: in.Metadata}
	slices.SortFunc(want.Tensors, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	if d := equalFiles(want, out); d != "" {
		t.Fatal(d)
	}
	if s, _ := out.Tensor("scalar"); s.Shape == nil || len(s.Shape) != 0 {
		t.Errorf("scalar shape = %#v, want []int{}", s.Shape)
	}
	// Write sorted a copy, not the caller's slice.
	if in.Tensors[0].Name != "enc.conv1.weight" {
		t.Error("Write reordered the caller's Tensors")
	}
	// Writing what was read gives the same bytes.
	var again bytes.Buffer
	if err := Write(&again, out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("Write(Read(Write(f))) differs from Write(f)")
	}
}

func TestRoundTripNilScalarShapeAndNoMetadata(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, &File{Tensors: []Tensor{{Name: "s", Data: []float32{3}}}, Metadata: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "__metadata__") {
		t.Error("empty metadata was written")
	}
	f, err := Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata != nil {
		t.Errorf("Metadata = %#v, want nil", f.Metadata)
	}
	if s, ok := f.Tensor("s"); !ok || len(s.Shape) != 0 || len(s.Data) != 1 || s.Data[0] != 3 {
		t.Errorf("s = %+v, want scalar 3", s)
	}
}

// TestWriteByteExact checks the layout byte by byte against one written out by hand,
// the layout the Python safetensors library writes and reads: u64 header length, compact
// JSON with "__metadata__" first and tensors sorted by name, spaces up to a multiple of
// 8, then little-endian data.
func TestWriteByteExact(t *testing.T) {
	f := &File{
		Tensors: []Tensor{
			{Name: "w", Shape: []int{}, Data: []float32{0.5}},
			{Name: "bias", Shape: []int{2}, Data: []float32{1, -2}},
		},
		Metadata: map[string]string{"format": "pt"},
	}
	want := "9000000000000000" + // header length 144 = 141 bytes of JSON + 3 spaces
		hex.EncodeToString([]byte(`{"__metadata__":{"format":"pt"},`+
			`"bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},`+
			`"w":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}`+"   ")) +
		"0000803f" + "000000c0" + // bias: 1, -2
		"0000003f" // w: 0.5
	var buf bytes.Buffer
	if err := Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(buf.Bytes()); got != want {
		t.Fatalf("bytes differ\n got %s\nwant %s\n got %q", got, want, buf.Bytes())
	}
	if (8+144)%8 != 0 {
		t.Fatal("data start not 8-byte aligned")
	}
}

// TestWriteMatchesReference holds Write to byte layouts the reference Rust
// implementation's own tests expect.
func TestWriteMatchesReference(t *testing.T) {
	cases := []struct {
		name string
		f    *File
		want string
	}{
		{"empty", &File{}, "0800000000000000" + hex.EncodeToString([]byte("{}      "))},
		{"metadata-only", &File{Metadata: map[string]string{"framework": "pt"}},
			"2800000000000000" + hex.EncodeToString([]byte(`{"__metadata__":{"framework":"pt"}}`+"     "))},
		{"attn0", &File{Tensors: []Tensor{{Name: "attn0", Shape: []int{1, 1, 2, 3}, Data: []float32{0, 1, 2, 3, 4, 5}}}},
			"4800000000000000" + hex.EncodeToString([]byte(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}`+"       ")) +
				"00000000" + "0000803f" + "00000040" + "00004040" + "00008040" + "0000a040"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, c.f); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(buf.Bytes()); got != c.want {
				t.Fatalf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestWriteEscapes(t *testing.T) {
	got := string(appendJSONString(nil, "a\"b\\c\n\t\r\b\f\x00\x1f\x7f<&>é"))
	want := `"a\"b\\c\n\t\r\b\f\u0000\u001f` + "\x7f<&>é\""
	if got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func TestWriteInvalid(t *testing.T) {
	cases := []struct {
		name string
		f    *File
		want string
	}{
		{"nil", nil, "nil *File"},
		{"shape-mismatch", &File{Tensors: []Tensor{{Name: "a", Shape: []int{2, 2}, Data: make([]float32, 3)}}}, `tensor "a": shape [2 2] does not match len(Data) = 3`},
		{"scalar-mismatch", &File{Tensors: []Tensor{{Name: "a", Data: make([]float32, 2)}}}, `tensor "a": shape [] does not match len(Data) = 2`},
		{"empty-mismatch", &File{Tensors: []Tensor{{Name: "a", Shape: []int{0}, Data: make([]float32, 1)}}}, `shape [0] does not match len(Data) = 1`},
		{"overflow", &File{Tensors: []Tensor{{Name: "a", Shape: []int{1 << 40, 1 << 40}, Data: make([]float32, 1)}}}, `does not match`},
		{"negative", &File{Tensors: []Tensor{{Name: "a", Shape: []int{-1, -1}, Data: make([]float32, 1)}}}, `tensor "a": negative dimension in shape [-1 -1]`},
		{"empty-name", &File{Tensors: []Tensor{{Name: "", Shape: []int{1}, Data: make([]float32, 1)}}}, "empty name"},
		{"metadata-name", &File{Tensors: []Tensor{{Name: "__metadata__", Shape: []int{1}, Data: make([]float32, 1)}}}, `"__metadata__" is reserved`},
		{"duplicate", &File{Tensors: []Tensor{{Name: "a", Shape: []int{1}, Data: make([]float32, 1)}, {Name: "b"}, {Name: "a", Shape: []int{1}, Data: make([]float32, 1)}}}, `duplicate tensor name "a"`},
		{"name-not-utf8", &File{Tensors: []Tensor{{Name: "a\xff", Shape: []int{1}, Data: make([]float32, 1)}}}, "not valid UTF-8"},
		{"metadata-not-utf8", &File{Metadata: map[string]string{"k": "\xff"}}, "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, c.f)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want ErrInvalid mentioning %q", err, c.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteIOError(t *testing.T) {
	f := &File{Tensors: []Tensor{{Name: "big", Shape: []int{100000}, Data: make([]float32, 100000)}}}
	for _, n := range []int{0, 5, 100, 70000, 300000} {
		err := Write(&failWriter{n: n}, f)
		if err == nil || !strings.Contains(err.Error(), "safetensors: write: disk full") {
			t.Errorf("failing after %d bytes: got %v", n, err)
		}
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	in := sample()
	if err := WriteFile(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(in.Tensors, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	if d := equalFiles(in, out); d != "" {
		t.Fatal(d)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"w.safetensors"}) {
		t.Fatalf("directory holds %v, want only w.safetensors", names)
	}
	// Overwriting replaces the content and keeps the mode.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	small := &File{Tensors: []Tensor{{Name: "x", Shape: []int{1}, Data: []float32{1}}}}
	if err := WriteFile(path, small); err != nil {
		t.Fatal(err)
	}
	if out, err := ReadFile(path); err != nil || equalFiles(small, out) != "" {
		t.Fatalf("after overwrite: %v %+v", err, out)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode after overwrite: %v %v, want 0600", st.Mode(), err)
	}
}

// TestWriteFileAtomic checks that a failed WriteFile leaves an existing file as it was
// and no temporary file behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	old := []byte("previous content")
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got error %v, want one mentioning %q", err, want)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, old) {
			t.Errorf("existing file changed to %q", got)
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"w.safetensors"}) {
			t.Errorf("directory holds %v, want only w.safetensors", names)
		}
	}

	t.Run("invalid-file", func(t *testing.T) {
		err := WriteFile(path, &File{Tensors: []Tensor{{Name: "a", Shape: []int{2}, Data: make([]float32, 1)}}})
		check(t, err, path+`: tensor "a"`)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%v is not ErrInvalid", err)
		}
	})
	t.Run("rename-fails", func(t *testing.T) {
		// A non-empty directory cannot be replaced by a file, even by root.
		target := filepath.Join(dir, "sub")
		if err := os.MkdirAll(filepath.Join(target, "x"), 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(target)
		err := WriteFile(target, sample())
		if err == nil {
			t.Fatal("WriteFile over a directory succeeded")
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"sub", "w.safetensors"}) {
			t.Errorf("directory holds %v, want sub and w.safetensors", names)
		}
		if names := dirNames(t, target); !slices.Equal(names, []string{"x"}) {
			t.Errorf("target directory holds %v, want x", names)
		}
	})
	t.Run("missing-directory", func(t *testing.T) {
		err := WriteFile(filepath.Join(dir, "nope", "w.safetensors"), sample())
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want os.ErrNotExist", err)
		}
		check(t, err, "nope")
	})
	t.Run("read-only-directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		err := WriteFile(path, sample())
		check(t, err, path)
	})
}
