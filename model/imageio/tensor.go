package imageio

import (
	"image"

	"golang.org/x/image/draw"
)

// unit maps an 8-bit value v to (v/255 − 0.5)/0.5 computed in float32, the way
// torchvision's ToTensor then Normalize((0.5,), (0.5,)) compute it, so that the
// tensors match the trainer's bit for bit: unit[0] = −1, unit[255] = 1.
var unit = func() (t [256]float32) {
	for v := range t {
		x := float32(v) / 255
		t[v] = (x - 0.5) / 0.5
	}
	return t
}()

// luma is ITU-R 601-2 luma in PIL's fixed point (mode "L" from "RGB"), rounded to
// nearest; the weights sum to 1<<16, so grey stays the same grey.
func luma(r, g, b uint8) uint8 {
	return uint8((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 1<<15) >> 16)
}

// Tensor converts img into the model's input, a channels×size×size CHW tensor in
// [-1, 1] (see the package documentation for each step): stretched to size×size with
// bilinear antialiased resampling (skipped when img is already size×size), alpha
// composited over black, reduced to luma when channels is 1 or kept as RGB when it is
// 3, and scaled from [0, 255] to [-1, 1].
//
// It writes into dst and returns it, resliced to channels·size·size, when dst has the
// capacity; otherwise it allocates. An image with no pixels gives an all-black tensor
// (−1). It panics if size ≤ 0 or channels is not 1 or 3. It is safe for concurrent use.
func Tensor(dst []float32, img image.Image, size, channels int) []float32 {
	checkShape(size, channels)
	n := channels * size * size
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]

	// MNIST at its own size (and any grey image already size×size) needs no RGBA copy.
	if g, ok := img.(*image.Gray); ok && g.Rect.Dx() == size && g.Rect.Dy() == size {
		plane := size * size
		for y := 0; y < size; y++ {
			row := g.Pix[y*g.Stride : y*g.Stride+size]
			out := dst[y*size : y*size+size]
			for x, v := range row {
				out[x] = unit[v]
			}
		}
		for c := 1; c < channels; c++ {
			copy(dst[c*plane:(c+1)*plane], dst[:plane])
		}
		return dst
	}

	rgbaTensor(dst, resize(img, size), size, channels)
	return dst
}

// resize draws img onto a new size×size RGBA image. RGBA is premultiplied, so drawing
// with draw.Src composites over black, and its colour values are the composited ones.
//
// draw.BiLinear.Scale widens the triangle kernel by the scale factor when shrinking, so
// it antialiases like PIL's BILINEAR resize (torchvision's Resize on PIL images);
// pixel centres sit at (i+0.5)·scale − 0.5 in both.
func resize(img image.Image, size int) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	b := img.Bounds()
	switch {
	case b.Empty():
		// stays transparent, which is black
	case b.Dx() == size && b.Dy() == size:
		draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	default:
		draw.BiLinear.Scale(dst, dst.Rect, img, b, draw.Src, nil)
	}
	return dst
}

// rgbaTensor writes m (size×size, premultiplied, i.e. already over black) into dst as
// CHW luma or RGB.
func rgbaTensor(dst []float32, m *image.RGBA, size, channels int) {
	plane := size * size
	for y := 0; y < size; y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+4*size]
		o := y * size
		if channels == 1 {
			out := dst[o : o+size]
			for x := range out {
				p := row[4*x : 4*x+3 : 4*x+3] // one bounds check for the three reads
				out[x] = unit[luma(p[0], p[1], p[2])]
			}
			continue
		}
		r, g, b := dst[o:o+size], dst[plane+o:plane+o+size], dst[2*plane+o:2*plane+o+size]
		for x := range r {
			p := row[4*x : 4*x+3 : 4*x+3]
			r[x], g[x], b[x] = unit[p[0]], unit[p[1]], unit[p[2]]
		}
	}
}
