package imageio

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"slices"
	"testing"
)

func TestUnitScaling(t *testing.T) {
	if unit[0] != -1 || unit[255] != 1 {
		t.Fatalf("unit[0] = %v, unit[255] = %v; want exactly -1 and 1", unit[0], unit[255])
	}
	for v := 1; v < 256; v++ {
		want := 2*float64(v)/255 - 1
		if d := math.Abs(float64(unit[v]) - want); d > 1e-6 {
			t.Errorf("unit[%d] = %v, want %v (off by %g)", v, unit[v], want, d)
		}
		if unit[v] <= unit[v-1] {
			t.Errorf("unit not increasing at %d", v)
		}
	}
}

// uniform is a size×size image of one colour, as the given concrete type.
func uniformOf(kind string, w, h int, c color.Color) image.Image {
	r := image.Rect(0, 0, w, h)
	var m draw.Image
	switch kind {
	case "gray":
		m = image.NewGray(r)
	case "gray16":
		m = image.NewGray16(r)
	case "rgba":
		m = image.NewRGBA(r)
	case "nrgba":
		m = image.NewNRGBA(r)
	case "nrgba64":
		m = image.NewNRGBA64(r)
	case "cmyk":
		m = image.NewCMYK(r)
	case "paletted":
		m = image.NewPaletted(r, color.Palette{color.Black, c})
	case "ycbcr":
		y := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
		yy, cb, cr := color.RGBToYCbCr(c.(color.RGBA).R, c.(color.RGBA).G, c.(color.RGBA).B)
		for i := range y.Y {
			y.Y[i] = yy
		}
		for i := range y.Cb {
			y.Cb[i], y.Cr[i] = cb, cr
		}
		return y
	default:
		panic(kind)
	}
	draw.Draw(m, r, image.NewUniform(c), image.Point{}, draw.Src)
	return m
}

// wantRGB is what Tensor must make of one pixel of img: its premultiplied 8-bit colour.
func wantRGB(img image.Image) (r, g, b uint8) {
	c := color.RGBAModel.Convert(img.At(img.Bounds().Min.X, img.Bounds().Min.Y)).(color.RGBA)
	return c.R, c.G, c.B
}

func TestTensorLumaByHand(t *testing.T) {
	cases := []struct {
		c    color.Color
		luma uint8
	}{
		{color.RGBA{255, 0, 0, 255}, 76},  // 255·0.299 = 76.2
		{color.RGBA{0, 255, 0, 255}, 150}, // 255·0.587 = 149.7
		{color.RGBA{0, 0, 255, 255}, 29},  // 255·0.114 = 29.1
		{color.RGBA{255, 255, 255, 255}, 255},
		{color.RGBA{0, 0, 0, 255}, 0},
		{color.RGBA{100, 150, 200, 255}, 141}, // 29.9 + 88.05 + 22.8 = 140.75
		{color.Gray{77}, 77},
	}
	for _, c := range cases {
		for _, size := range []int{3, 5} { // 3: no resize; 5: through the resampler
			got := Tensor(nil, uniformOf("rgba", 3, 3, c.c), size, 1)
			want := float32(2*float64(c.luma)/255 - 1)
			for i, v := range got {
				if v != unit[c.luma] || math.Abs(float64(v-want)) > 1e-6 {
					t.Fatalf("%v at size %d: value %d = %v, want %v (luma %d)", c.c, size, i, v, want, c.luma)
				}
			}
		}
	}
}

func TestTensorRGB(t *testing.T) {
	c := color.RGBA{10, 200, 255, 255}
	got := Tensor(nil, uniformOf("nrgba", 4, 4, c), 4, 3)
	for i, v := range got {
		want := unit[[]uint8{10, 200, 255}[i/16]]
		if v != want {
			t.Fatalf("value %d (channel %d) = %v, want %v", i, i/16, v, want)
		}
	}
	if got[0] != float32(2*10.0/255-1) && math.Abs(float64(got[0])-(2*10.0/255-1)) > 1e-6 {
		t.Errorf("R = %v", got[0])
	}
}

func TestTensorExactEndpoints(t *testing.T) {
	for _, size := range []int{8, 12} { // same size (fast path) and resized
		for _, g := range []uint8{0, 255} {
			for _, ch := range []int{1, 3} {
				for _, kind := range []string{"gray", "rgba"} {
					got := Tensor(nil, uniformOf(kind, 8, 8, color.Gray{g}), size, ch)
					want := float32(-1)
					if g == 255 {
						want = 1
					}
					for i, v := range got {
						if v != want {
							t.Fatalf("%s %d at size %d, %d channels: value %d = %v, want exactly %v", kind, g, size, ch, i, v, want)
						}
					}
				}
			}
		}
	}
}

func TestTensorAlphaOverBlack(t *testing.T) {
	cases := []struct {
		c          color.NRGBA
		rgb        [3]uint8 // composited over black
		luma       uint8
		whatItTest string
	}{
		{color.NRGBA{255, 255, 255, 0}, [3]uint8{0, 0, 0}, 0, "transparent white is black"},
		{color.NRGBA{255, 255, 255, 255}, [3]uint8{255, 255, 255}, 255, "opaque white stays white"},
		{color.NRGBA{255, 255, 255, 128}, [3]uint8{128, 128, 128}, 128, "half-transparent white is mid grey"},
		{color.NRGBA{255, 0, 0, 128}, [3]uint8{128, 0, 0}, 38, "half-transparent red: luma of (128, 0, 0)"},
	}
	for _, c := range cases {
		img := uniformOf("nrgba", 3, 3, c.c)
		rgb := Tensor(nil, img, 3, 3)
		gray := Tensor(nil, img, 3, 1)
		for i := 0; i < 9; i++ {
			for ch := 0; ch < 3; ch++ {
				if rgb[ch*9+i] != unit[c.rgb[ch]] {
					t.Fatalf("%s: channel %d = %v, want %v", c.whatItTest, ch, rgb[ch*9+i], unit[c.rgb[ch]])
				}
			}
			if gray[i] != unit[c.luma] {
				t.Fatalf("%s: luma = %v, want %v", c.whatItTest, gray[i], unit[c.luma])
			}
		}
	}

	// Resampling works on premultiplied colour: the colour of fully transparent pixels
	// (here red) must not bleed into their opaque white neighbours.
	m := image.NewNRGBA(image.Rect(0, 0, 6, 6))
	for y := 0; y < 6; y++ {
		for x := 0; x < 6; x++ {
			if x < 3 {
				m.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
			} else {
				m.SetNRGBA(x, y, color.NRGBA{255, 0, 0, 0})
			}
		}
	}
	for _, size := range []int{2, 4, 9} {
		got := Tensor(nil, m, size, 3)
		n := size * size
		for i := 0; i < n; i++ {
			if got[i] != got[n+i] || got[i] != got[2*n+i] {
				t.Fatalf("size %d: pixel %d is (%v, %v, %v): transparent red bled in", size, i, got[i], got[n+i], got[2*n+i])
			}
		}
	}
}

// TestTensorResizeConstant: a constant image stays exactly that constant whatever the
// source type and the scale, up, down or non-square.
func TestTensorResizeConstant(t *testing.T) {
	c := color.RGBA{200, 120, 40, 255}
	kinds := []string{"gray", "gray16", "rgba", "nrgba", "nrgba64", "cmyk", "paletted", "ycbcr"}
	dims := [][2]int{{28, 28}, {32, 32}, {100, 60}, {5, 300}, {1, 1}, {33, 31}}
	for _, kind := range kinds {
		for _, d := range dims {
			img := uniformOf(kind, d[0], d[1], c)
			r, g, b := wantRGB(img)
			for _, ch := range []int{1, 3} {
				got := Tensor(nil, img, 32, ch)
				want := []float32{unit[luma(r, g, b)]}
				if ch == 3 {
					want = []float32{unit[r], unit[g], unit[b]}
				}
				for i, v := range got {
					if w := want[i/(32*32)]; v != w {
						t.Fatalf("%s %dx%d → 32, %d channels: value %d = %v, want %v", kind, d[0], d[1], ch, i, v, w)
					}
				}
			}
		}
	}
}

// TestTensorBilinearByHand: a 2×2 image with columns 0 and 255, upscaled to 4×4. Output
// centres fall at source x = −0.25, 0.25, 0.75, 1.25; the triangle kernel, with weights
// renormalised at the border, gives 0, 63.75, 191.25, 255, which PIL rounds to
// 0, 64, 191, 255 (Image.resize((4, 4), BILINEAR)).
func TestTensorBilinearByHand(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 2, 2))
	g.Pix = []uint8{0, 255, 0, 255}
	got := Tensor(nil, g, 4, 1)
	want := []uint8{0, 64, 191, 255}
	for i, v := range got {
		if v != unit[want[i%4]] {
			t.Fatalf("pixel (%d,%d) = %v, want %v (%d)", i%4, i/4, v, unit[want[i%4]], want[i%4])
		}
	}
}

// TestTensorAntialias: a one-pixel checkerboard shrunk 3× must come out as flat grey.
// Bilinear sampling without antialiasing would land on pixel centres here (3i+1) and
// give back a black-and-white pattern.
func TestTensorAntialias(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 96, 96))
	for y := 0; y < 96; y++ {
		for x := 0; x < 96; x++ {
			g.Pix[y*96+x] = uint8(255 * ((x + y) % 2))
		}
	}
	for i, v := range Tensor(nil, g, 32, 1) {
		if math.Abs(float64(v)) > 0.2 {
			t.Fatalf("pixel %d = %v; a shrunk checkerboard should be close to mid grey (0)", i, v)
		}
	}
}

// digit draws an anti-aliased ring (a "0") of the given radius centred at (cx, cy),
// white on black, on a 28×28 image like an MNIST digit.
func digit(cx, cy, radius float64) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			d := math.Abs(math.Hypot(float64(x)-cx, float64(y)-cy) - radius)
			v := math.Max(0, math.Min(1, 2-d)) // stroke about 4 px wide
			g.Pix[y*28+x] = uint8(255*v + 0.5)
		}
	}
	return g
}

// centroid returns the intensity-weighted centre and the total intensity of a 1-channel
// tensor, intensity being the [0, 1] pixel value.
func centroid(chw []float32, size int) (cx, cy, mass float64) {
	for i, v := range chw {
		w := (float64(v) + 1) / 2
		cx += w * float64(i%size)
		cy += w * float64(i/size)
		mass += w
	}
	return cx / mass, cy / mass, mass
}

// TestTensorUpscaleMNIST: 28×28 → 32×32 keeps a digit's centre of mass where the
// half-pixel-centre mapping x' = (x + 0.5)·32/28 − 0.5 puts it, and scales its mass by
// the area ratio: no shift by half a pixel, no crop, no padding.
func TestTensorUpscaleMNIST(t *testing.T) {
	for _, c := range [][2]float64{{13.5, 13.5}, {10, 16}, {15.2, 12.7}} {
		src := digit(c[0], c[1], 7)
		sx, sy, smass := centroid(Tensor(nil, src, 28, 1), 28)
		dx, dy, dmass := centroid(Tensor(nil, src, 32, 1), 32)
		wx, wy := (sx+0.5)*32/28-0.5, (sy+0.5)*32/28-0.5
		t.Logf("digit at (%.1f, %.1f): centroid 28×28 (%.3f, %.3f) → 32×32 (%.3f, %.3f), want (%.3f, %.3f); mass ×%.3f",
			c[0], c[1], sx, sy, dx, dy, wx, wy, dmass/smass)
		if math.Abs(dx-wx) > 0.1 || math.Abs(dy-wy) > 0.1 {
			t.Errorf("digit at (%.1f, %.1f): centroid (%.3f, %.3f), want (%.3f, %.3f) ± 0.1", c[0], c[1], dx, dy, wx, wy)
		}
		if r := dmass / smass / (32.0 * 32 / (28 * 28)); math.Abs(r-1) > 0.03 {
			t.Errorf("digit at (%.1f, %.1f): mass ratio %.3f of the area ratio, want 1 ± 0.03", c[0], c[1], r)
		}
	}
	// The centred digit stays centred in the 32×32 frame, symmetric under a half turn.
	got := Tensor(nil, digit(13.5, 13.5, 7), 32, 1)
	for i := range got {
		if j := len(got) - 1 - i; math.Abs(float64(got[i]-got[j])) > 2.0/255+1e-6 {
			t.Fatalf("pixels %d and %d differ: %v vs %v", i, j, got[i], got[j])
		}
	}
}

// TestTensorStretchesNonSquare: a 64×16 image, white left half, black right half, fills
// the whole size×size tensor (stretched, not cropped or padded): every row is the same,
// and the left half is white.
func TestTensorStretchesNonSquare(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 64, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 32; x++ {
			g.Pix[y*64+x] = 255
		}
	}
	got := Tensor(nil, g, 8, 1)
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			v := got[y*8+x]
			if v != got[x] {
				t.Fatalf("row %d differs from row 0 at column %d", y, x)
			}
			if x < 3 && v != 1 || x > 4 && v != -1 {
				t.Fatalf("pixel (%d,%d) = %v", x, y, v)
			}
		}
	}
	if !(got[3] > got[4]) {
		t.Errorf("columns 3 and 4: %v, %v; want the edge between them", got[3], got[4])
	}
}

// TestTensorPaths: the *image.Gray fast path, the same-size draw path and the
// resampler agree with each other and with a per-pixel reference where they should.
func TestTensorPaths(t *testing.T) {
	g := grayRamp(40, 40)
	sub := g.SubImage(image.Rect(4, 5, 36, 37)).(*image.Gray) // 32×32, Min not at the origin
	hidden := struct{ image.Image }{sub}                      // same pixels, not an *image.Gray
	for _, ch := range []int{1, 3} {
		fast := Tensor(nil, sub, 32, ch)
		general := Tensor(nil, hidden, 32, ch)
		if !slices.Equal(fast, general) {
			t.Errorf("%d channels: fast path differs from the general path", ch)
		}
		for c := 0; c < ch; c++ {
			for y := 0; y < 32; y++ {
				for x := 0; x < 32; x++ {
					if v, w := fast[c*1024+y*32+x], unit[sub.GrayAt(4+x, 5+y).Y]; v != w {
						t.Fatalf("%d channels: (%d, %d, %d) = %v, want %v", ch, c, x, y, v, w)
					}
				}
			}
		}
	}

	m := colourful(32, 32)
	got := Tensor(nil, m, 32, 3)
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			c := m.NRGBAAt(x, y)
			for ch, v := range []uint8{c.R, c.G, c.B} {
				if got[ch*1024+y*32+x] != unit[v] {
					t.Fatalf("RGB same size: (%d, %d, %d) = %v, want %v", ch, x, y, got[ch*1024+y*32+x], unit[v])
				}
			}
		}
	}
}

func TestTensorDst(t *testing.T) {
	img := grayRamp(28, 28)
	dst := make([]float32, 5000)
	out := Tensor(dst, img, 32, 1)
	if len(out) != 1024 || &out[0] != &dst[0] {
		t.Errorf("a long dst was not reused: len %d", len(out))
	}
	capOnly := make([]float32, 0, 3*1024)
	out = Tensor(capOnly, img, 32, 3)
	if len(out) != 3*1024 || &out[0] != &capOnly[:1][0] {
		t.Errorf("a dst with the capacity was not reused")
	}
	short := make([]float32, 10)
	out = Tensor(short, img, 32, 1)
	if len(out) != 1024 || &out[0] == &short[0] {
		t.Errorf("a short dst: len %d", len(out))
	}
	if !slices.Equal(out, Tensor(nil, img, 32, 1)) {
		t.Errorf("results depend on dst")
	}
	for i := range dst {
		dst[i] = 7 // stale values must all be overwritten
	}
	if !slices.Equal(Tensor(dst, img, 32, 1), Tensor(nil, img, 32, 1)) {
		t.Errorf("stale dst values leaked into the result")
	}
}

func TestTensorEmptyImage(t *testing.T) {
	for _, img := range []image.Image{image.NewGray(image.Rectangle{}), image.NewRGBA(image.Rect(3, 3, 3, 9))} {
		for _, ch := range []int{1, 3} {
			for i, v := range Tensor(nil, img, 4, ch) {
				if v != -1 {
					t.Fatalf("%T %v: value %d = %v, want -1", img, img.Bounds(), i, v)
				}
			}
		}
	}
}

func TestShapePanics(t *testing.T) {
	img := grayRamp(4, 4)
	ok := make([]float32, 3*16)
	cases := []struct {
		name string
		want string
		call func()
	}{
		{"Tensor size 0", badSize, func() { Tensor(nil, img, 0, 1) }},
		{"Tensor channels 2", badChannels, func() { Tensor(nil, img, 4, 2) }},
		{"Image size -1", badSize, func() { Image(ok, -1, 1) }},
		{"Image channels 4", badChannels, func() { Image(ok, 4, 4) }},
		{"Image short", shortTensor, func() { Image(ok[:15], 4, 1) }},
		{"HeatMap short a", shortTensor, func() { HeatMap(ok[:47], ok, 4, 3, 0) }},
		{"HeatMap short b", shortTensor, func() { HeatMap(ok, ok[:20], 4, 3, 0) }},
		{"HeatMap channels 0", badChannels, func() { HeatMap(ok, ok, 4, 0, 0) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if p := recover(); fmt.Sprint(p) != c.want {
					t.Errorf("panic %v, want %q", p, c.want)
				}
			}()
			c.call()
		})
	}
}

// TestTensorConcurrent: the trainer converts the data set from many goroutines at once.
func TestTensorConcurrent(t *testing.T) {
	imgs := []image.Image{digit(13.5, 13.5, 7), colourful(50, 40), grayRamp(32, 32)}
	want := make([][]float32, len(imgs))
	for i, img := range imgs {
		want[i] = Tensor(nil, img, 32, 3)
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			dst := make([]float32, 3*32*32)
			for k := 0; k < 20; k++ {
				i := (g + k) % len(imgs)
				if !slices.Equal(Tensor(dst, imgs[i], 32, 3), want[i]) {
					errs <- fmt.Errorf("goroutine %d: image %d differs", g, i)
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
