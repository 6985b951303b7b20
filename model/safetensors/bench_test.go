package safetensors

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchFile is a file of about size bytes spread over 60 tensors, the tensor count of
// a GANomaly generator plus discriminator; 13 MB is the default model's weights file.
func benchFile(size int) *File {
	const n = 60
	per := size / 4 / n
	f := &File{Metadata: map[string]string{"format": "pt"}}
	for i := range n {
		data := make([]float32, per)
		for j := range data {
			data[j] = float32(i*per+j) * 0.001
		}
		f.Tensors = append(f.Tensors, Tensor{Name: fmt.Sprintf("layer.%02d.weight", i), Shape: []int{per}, Data: data})
	}
	return f
}

var benchSizes = []struct {
	name string
	size int
}{{"Small_16KB", 16 << 10}, {"Med_1MB", 1 << 20}, {"Large_13MB", 13 << 20}}

func BenchmarkRead(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			var buf bytes.Buffer
			if err := Write(&buf, benchFile(s.size)); err != nil {
				b.Fatal(err)
			}
			data := buf.Bytes()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Read(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			f := benchFile(s.size)
			b.SetBytes(int64(s.size))
			for b.Loop() {
				if err := Write(io.Discard, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
