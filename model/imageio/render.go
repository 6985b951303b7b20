package imageio

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"sync"
)

// toByte is unit's inverse: v in [-1, 1] back to 0..255, rounded to nearest, clamped;
// NaN becomes 0. For every 8-bit v, toByte(unit[v]) == v.
func toByte(v float32) uint8 {
	switch {
	case !(v > -1): // NaN too
		return 0
	case v >= 1:
		return 255
	}
	return uint8((v+1)*127.5 + 0.5)
}

// Image turns a channels×size×size CHW tensor in [-1, 1] back into an image: an
// *image.Gray for 1 channel, an opaque *image.RGBA for 3. Values outside [-1, 1] are
// clamped and NaN is drawn black. It panics if size ≤ 0, channels is not 1 or 3, or chw
// is shorter than channels·size·size.
func Image(chw []float32, size, channels int) image.Image {
	checkShape(size, channels)
	plane := size * size
	if len(chw) < channels*plane {
		panic(shortTensor)
	}
	if channels == 1 {
		g := image.NewGray(image.Rect(0, 0, size, size)) // Stride == size
		for i, v := range chw[:plane] {
			g.Pix[i] = toByte(v)
		}
		return g
	}
	m := image.NewRGBA(image.Rect(0, 0, size, size)) // Stride == 4·size
	r, g, b := chw[:plane], chw[plane:2*plane], chw[2*plane:3*plane]
	for i := range r {
		p := m.Pix[4*i : 4*i+4 : 4*i+4]
		p[0], p[1], p[2], p[3] = toByte(r[i]), toByte(g[i]), toByte(b[i]), 255
	}
	return m
}

// inferno is matplotlib's inferno colour map sampled at i/9, i = 0..9 (the ten-colour
// table plotly and bokeh ship); HeatMap interpolates linearly between neighbours.
// Perceptually uniform, readable in grey and by colour-blind viewers: black for no
// difference, through purple and orange to pale yellow for the largest.
var inferno = [...]color.RGBA{
	{0x00, 0x00, 0x04, 0xff}, {0x1b, 0x0c, 0x41, 0xff}, {0x4a, 0x0c, 0x6b, 0xff},
	{0x78, 0x1c, 0x6d, 0xff}, {0xa5, 0x2c, 0x60, 0xff}, {0xcf, 0x44, 0x46, 0xff},
	{0xed, 0x69, 0x25, 0xff}, {0xfb, 0x9b, 0x06, 0xff}, {0xf7, 0xd1, 0x3d, 0xff},
	{0xfc, 0xff, 0xa4, 0xff},
}

// colorAt maps t in [0, 1] onto the inferno table; t is clamped and NaN gets the top
// colour, so that a broken reconstruction shows up instead of hiding as "no difference".
func colorAt(t float32) color.RGBA {
	switch {
	case t != t || t >= 1:
		return inferno[len(inferno)-1]
	case !(t > 0):
		return inferno[0]
	}
	pos := t * float32(len(inferno)-1)
	i := int(pos)
	if i >= len(inferno)-1 {
		return inferno[len(inferno)-1]
	}
	f := pos - float32(i)
	lo, hi := inferno[i], inferno[i+1]
	mix := func(a, b uint8) uint8 { return uint8(float32(a) + f*(float32(b)-float32(a)) + 0.5) }
	return color.RGBA{mix(lo.R, hi.R), mix(lo.G, hi.G), mix(lo.B, hi.B), 0xff}
}

// HeatMap draws |a − b|, averaged over channels, as an opaque size×size image with the
// inferno colour map: no difference is the bottom colour (near black) and a difference
// of maxDiff or more the top one (pale yellow). maxDiff ≤ 0 (or NaN) means 2, the
// largest difference between two tensors in [-1, 1], so that heat maps of different
// images compare; pass a smaller maxDiff to stretch faint differences. a and b are CHW
// as Tensor makes them. It panics if size ≤ 0, channels is not 1 or 3, or a or b is
// shorter than channels·size·size.
func HeatMap(a, b []float32, size, channels int, maxDiff float32) *image.RGBA {
	checkShape(size, channels)
	plane := size * size
	n := channels * plane
	if len(a) < n || len(b) < n {
		panic(shortTensor)
	}
	if !(maxDiff > 0) {
		maxDiff = 2
	}
	denom := maxDiff * float32(channels) // t = (sum over channels)/channels/maxDiff
	m := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := 0; i < plane; i++ {
		var d float32
		for c := i; c < n; c += plane {
			diff := a[c] - b[c]
			if diff < 0 {
				diff = -diff
			}
			d += diff
		}
		col := colorAt(d / denom)
		p := m.Pix[4*i : 4*i+4 : 4*i+4]
		p[0], p[1], p[2], p[3] = col.R, col.G, col.B, col.A
	}
	return m
}

// Encoders for EncodePNG. Both keep their buffers between images: png.Encode
// allocates a new compressor (about 800 KB) for every image, which cost a scoring
// worker more time than encoding three 32×32 images did.
var (
	pngEncoder = png.Encoder{BufferPool: &pngBuffers{}}
	pngStorer  = png.Encoder{CompressionLevel: png.NoCompression, BufferPool: &pngBuffers{}}
)

// storeBelow is the size in bytes of pixels up to which EncodePNG stores an image
// rather than compresses it.
const storeBelow = 4 << 10

// pngBuffers is a png.EncoderBufferPool over a sync.Pool.
type pngBuffers struct{ pool sync.Pool }

func (p *pngBuffers) Get() *png.EncoderBuffer {
	b, _ := p.pool.Get().(*png.EncoderBuffer)
	return b
}

func (p *pngBuffers) Put(b *png.EncoderBuffer) { p.pool.Put(b) }

// EncodePNG returns img as PNG bytes. An image of 4 KiB of pixels or less (a 32×32
// preview: the scoring worker makes three per image, the trainer six per epoch) is
// stored, not compressed: compression saved a kilobyte or two and took a fifth of a
// scoring worker's time in WebAssembly. Larger images are compressed.
func EncodePNG(img image.Image) ([]byte, error) {
	enc := &pngEncoder
	b := img.Bounds()
	perPixel := 4
	if _, grey := img.(*image.Gray); grey {
		perPixel = 1
	}
	if b.Dx()*b.Dy()*perPixel <= storeBelow {
		enc = &pngStorer
	}
	var buf bytes.Buffer
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("imageio: encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}
