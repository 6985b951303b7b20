package model

import (
	"errors"
	"flag"
	"fmt"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model/internal/fuzzseed"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// FuzzReadWeights: the reader never panics, every refusal wraps ErrWeights, and what
// it accepts builds a generator and writes back to a file that reads the same.
// The seed corpus (testdata/fuzz/FuzzReadWeights) holds a valid file and damaged ones.
func FuzzReadWeights(f *testing.F) {
	good, err := testWeightsFile(f).Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ReadWeights(data)
		if err != nil {
			if !errors.Is(err, ErrWeights) {
				t.Fatalf("error does not wrap ErrWeights: %v", err)
			}
			return
		}
		if _, err := NewDetector(w); err != nil {
			t.Fatalf("accepted file does not build: %v", err)
		}
		again, err := w.Bytes()
		if err != nil {
			t.Fatalf("accepted file does not write back: %v", err)
		}
		if _, err := ReadWeights(again); err != nil {
			t.Fatalf("written file does not read back: %v", err)
		}
	})
}

var updateCorpus = flag.Bool("update", false, "rewrite the seed corpus under testdata/fuzz")

// TestWeightsFuzzCorpus keeps the seed corpus of FuzzReadWeights in the repository:
// a valid file, cuts at several places, and files with damaged metadata or tensors.
// Regenerate with: go test ./model -run TestWeightsFuzzCorpus -update
func TestWeightsFuzzCorpus(t *testing.T) {
	good, err := testWeightsFile(t).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{"valid": good}
	for _, cut := range []int{0, 7, 8, 64, len(good) / 2, len(good) - 1} {
		seeds[fmt.Sprintf("cut-%d", cut)] = good[:cut]
	}
	flipped := append([]byte(nil), good...)
	flipped[20] ^= 0xff
	seeds["header-byte-flipped"] = flipped
	seeds["wrong-format"] = mutate(t, func(f *safetensors.File) { f.Metadata["format"] = "x" })
	seeds["bad-config"] = mutate(t, func(f *safetensors.File) { f.Metadata["config"] = `{"image_size":0}` })
	seeds["dropped-tensor"] = mutate(t, func(f *safetensors.File) { f.Tensors = f.Tensors[2:] })
	fuzzseed.Check(t, "FuzzReadWeights", "TestWeightsFuzzCorpus", seeds, *updateCorpus)
}
