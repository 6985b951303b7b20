// Package rawf32 reads and writes raw little-endian float32 files: how the benchmark's
// workers (ours in Go, the peers in JavaScript and Python) pass tensors to each other.
// It imports nothing from the repository, so that our worker builds for js/wasm.
package rawf32

import (
	"encoding/binary"
	"math"
	"os"
)

// Read returns the float32 values of the file at path.
func Read(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// Write writes v to path.
func Write(path string, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}
