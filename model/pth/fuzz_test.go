package pth

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
)

// FuzzRead holds Read and Weights to their promises on any input: they never panic,
// every error is an *Error of a known kind, what they accept is a generator that
// builds and writes a valid weights file, and what they allocate stays within a fixed
// budget plus a small multiple of the input's size.
//
// The seeds are the small checkpoints under testdata (a valid tiny generator in
// several dtypes, the malformed and hostile ones) and a few hand-made archives and
// pickles, a legacy header among them. They are added here
// rather than kept as corpus files under testdata/fuzz (model/internal/fuzzseed): the
// fixtures are already committed, and a quoted copy of them would double testdata.
func FuzzRead(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.pth"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		// The 16×16 and 32×32 generators (70 to 240 KB) slow the fuzzer down a
		// hundredfold for no new paths: the tiny ones have the same structure.
		if b := readFixture(f, filepath.Base(file)); len(b) <= 32<<10 {
			f.Add(b)
		}
	}
	six := map[string][]byte{"data/0": make([]byte, 24)}
	f.Add(archive(f, oneTensor("FloatStorage", 6, 0, []int64{2, 3}, []int64{3, 1}), six))
	f.Add(archive(f, oneTensor("HalfStorage", 12, 0, []int64{3, 2}, []int64{1, 3}), six))
	f.Add(archive(f, []byte("\x80\x04\x8c\x02os\x8c\x06system\x93."), nil))
	f.Add([]byte("\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03."))

	const budget = 80 << 20 // maxBuildCost and slack
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := Read(data)
		var w *model.WeightsFile
		if err == nil {
			w, err = c.Weights("fuzz.pth")
		}
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > budget+32*uint64(len(data)) {
			t.Errorf("allocated %d bytes for an input of %d", alloc, len(data))
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %q is not an *Error", err)
			}
			switch e.Kind {
			case ErrFormat, ErrUnsafe, ErrTooLarge, ErrUnsupported, ErrNotGenerator:
			default:
				t.Fatalf("error %q has kind %v", err, e.Kind)
			}
			return
		}
		if _, err := model.NewGenerator(w.Config, w.Tensors); err != nil {
			t.Fatalf("accepted checkpoint does not build: %v", err)
		}
		b, err := w.Bytes()
		if err != nil {
			t.Fatalf("accepted checkpoint does not write: %v", err)
		}
		if _, err := model.ReadWeights(b); err != nil {
			t.Fatalf("accepted checkpoint writes an invalid weights file: %v", err)
		}
	})
}
