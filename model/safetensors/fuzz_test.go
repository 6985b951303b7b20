package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model/internal/fuzzseed"
)

var update = flag.Bool("update", false, "rewrite the seed files in testdata/fuzz/FuzzRead")

// FuzzRead holds Read to its promises on any input: it never panics, every error is an
// *Error of a known kind, nothing it accepts is bigger than the input, and what it
// accepts round-trips: Read → Write → Read gives the same tensors and metadata, and
// writing that again gives the same bytes.
//
// The corpus in testdata/fuzz/FuzzRead holds the seed-* files (valid files and one per
// malformed case, regenerated with go test -run TestFuzzSeedCorpus -update) and any
// input the fuzzer ever failed on.
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %q is not an *Error", err)
			}
			switch e.Kind {
			case ErrTruncated, ErrTooLarge, ErrMalformed, ErrUnsupportedDtype:
			default:
				t.Fatalf("error %q has kind %v", err, e.Kind)
			}
			return
		}
		var values int
		for _, tn := range file.Tensors {
			values += len(tn.Data)
		}
		if 4*values > len(data) {
			t.Fatalf("accepted %d values from %d bytes", values, len(data))
		}

		var once bytes.Buffer
		if err := Write(&once, file); err != nil {
			t.Fatalf("Write of an accepted file: %v", err)
		}
		again, err := Read(once.Bytes())
		if err != nil {
			t.Fatalf("Read of our own output: %v\n%q", err, once.Bytes())
		}
		if d := equalFiles(file, again); d != "" {
			t.Fatalf("round trip changed the file: %s", d)
		}
		var twice bytes.Buffer
		if err := Write(&twice, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("Write is not a fixed point:\n%q\n%q", once.Bytes(), twice.Bytes())
		}
	})
}

// seeds are the named seed inputs of FuzzRead: valid files of each kind, then every
// malformed case.
func seeds(t *testing.T) map[string][]byte {
	s := make(map[string][]byte)
	valid := map[string]*File{
		"valid-empty":    {},
		"valid-metadata": {Metadata: map[string]string{"format": "pt", "config": `{"isize":32}`}},
		"valid-sample":   sample(),
		"valid-one":      {Tensors: []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}},
	}
	for name, f := range valid {
		var buf bytes.Buffer
		if err := Write(&buf, f); err != nil {
			t.Fatal(err)
		}
		s[name] = buf.Bytes()
	}
	s["valid-unpadded-unsorted"] = raw(`{`+t1("b", "F32", "[1]", "[0,4]")+`,"__metadata__":{"k":"v"},`+t1("a", "F32", "[]", "[4,8]")+`}`, f32s(1, 2)...)
	for _, c := range malformedCases() {
		s["malformed-"+c.name] = c.data
	}
	return s
}

// TestFuzzSeedCorpus keeps the seed files under testdata in step with seeds.
func TestFuzzSeedCorpus(t *testing.T) {
	fuzzseed.Check(t, "FuzzRead", "TestFuzzSeedCorpus", seeds(t), *update)
}

// FuzzWrite is the other direction: any File that Write accepts, Read accepts and gives
// back unchanged, whatever the names, metadata strings and float bits; anything Write
// rejects is an ErrInvalid error with nothing written.
func FuzzWrite(f *testing.F) {
	f.Add("enc.weight", "format", "pt", uint8(2), uint8(3), []byte("0123456789abcdefghijklmnopqrstuvwx"))
	f.Add("", "", "", uint8(0), uint8(0), []byte{})
	f.Add("a\"\\\n\x00é", "k\x1f", "v\x7f", uint8(1), uint8(0), []byte{0xff, 0xff, 0xff, 0x7f})
	f.Add("__metadata__", "a\xff", "b", uint8(1), uint8(1), []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, name, key, value string, d0, d1 uint8, values []byte) {
		shape := []int{int(d0 % 5), int(d1 % 5)}
		n := shape[0] * shape[1]
		data := make([]float32, n)
		for i := range data {
			if 4*i+4 <= len(values) {
				data[i] = math.Float32frombits(binary.LittleEndian.Uint32(values[4*i:]))
			}
		}
		in := &File{
			Tensors: []Tensor{
				{Name: name + ".b", Shape: []int{}, Data: []float32{float32(len(values))}},
				{Name: name, Shape: shape, Data: data},
			},
			Metadata: map[string]string{key: value},
		}
		var buf bytes.Buffer
		if err := Write(&buf, in); err != nil {
			if !errors.Is(err, ErrInvalid) || buf.Len() != 0 {
				t.Fatalf("Write: %v after %d bytes", err, buf.Len())
			}
			return
		}
		if n := binary.LittleEndian.Uint64(buf.Bytes()); (8+n)%8 != 0 {
			t.Fatal("data start not 8-byte aligned")
		}
		out, err := Read(buf.Bytes())
		if err != nil {
			t.Fatalf("Read of our own output: %v\n%q", err, buf.Bytes())
		}
		slices.SortFunc(in.Tensors, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
		if d := equalFiles(in, out); d != "" {
			t.Fatalf("round trip changed the file: %s", d)
		}
	})
}
