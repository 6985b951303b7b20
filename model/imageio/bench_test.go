package imageio

import (
	"image"
	"testing"
)

// Benchmarks at the shapes the app and the trainer see: MNIST digits scaled 28→32 (the
// whole training set goes through Tensor), a grey image already at size, and a phone
// photo shrunk to the model's input.
func BenchmarkTensor(b *testing.B) {
	photo := image.NewYCbCr(image.Rect(0, 0, 4032, 3024), image.YCbCrSubsampleRatio420)
	for i := range photo.Y {
		photo.Y[i] = uint8(i)
	}
	cases := []struct {
		name           string
		img            image.Image
		size, channels int
	}{
		{"mnist-28-to-32", digit(13.5, 13.5, 7), 32, 1},
		{"gray-32", grayRamp(32, 32), 32, 1},
		{"rgb-32", colourful(32, 32), 32, 3},
		{"photo-4032x3024-to-32-rgb", photo, 32, 3},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			dst := make([]float32, c.channels*c.size*c.size)
			b.ReportAllocs()
			for b.Loop() {
				Tensor(dst, c.img, c.size, c.channels)
			}
		})
	}
}

func BenchmarkLoad(b *testing.B) {
	cases := []struct {
		name           string
		data           []byte
		size, channels int
	}{
		{"png-28-to-32", encodePNG(b, digit(13.5, 13.5, 7)), 32, 1},
		{"jpeg-1024x768-to-32-rgb", encodeJPEG(b, colourful(1024, 768)), 32, 3},
		{"refuse-png-100000x100000", pngHeaderOnly(100000, 100000), 32, 1},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				Load(c.data, c.size, c.channels)
			}
		})
	}
}
