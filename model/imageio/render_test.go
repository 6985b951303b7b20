package imageio

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestImageRoundTrip: Tensor then Image gives back every 8-bit pixel, and Image then
// Tensor gives back every tensor made of 8-bit values.
func TestImageRoundTrip(t *testing.T) {
	for v := 0; v < 256; v++ {
		if got := toByte(unit[v]); got != uint8(v) {
			t.Fatalf("toByte(unit[%d]) = %d", v, got)
		}
	}

	g := grayRamp(16, 16)
	img := Image(Tensor(nil, g, 16, 1), 16, 1)
	if got, ok := img.(*image.Gray); !ok || !bytes.Equal(got.Pix, g.Pix) || got.Rect != g.Rect {
		t.Errorf("gray round trip: %T %v", img, img.Bounds())
	}

	m := colourful(16, 16)
	img = Image(Tensor(nil, m, 16, 3), 16, 3)
	rgba, ok := img.(*image.RGBA)
	if !ok {
		t.Fatalf("3 channels gave %T, want *image.RGBA", img)
	}
	for i := 0; i < 16*16; i++ {
		if !bytes.Equal(rgba.Pix[4*i:4*i+4], m.Pix[4*i:4*i+4]) {
			t.Fatalf("RGB round trip: pixel %d = %v, want %v", i, rgba.Pix[4*i:4*i+4], m.Pix[4*i:4*i+4])
		}
	}

	rng := rand.New(rand.NewPCG(3, 4))
	for _, ch := range []int{1, 3} {
		chw := make([]float32, ch*20*20)
		for i := range chw {
			chw[i] = unit[rng.IntN(256)]
		}
		if back := Tensor(nil, Image(chw, 20, ch), 20, ch); !slices.Equal(back, chw) {
			t.Errorf("%d channels: Image then Tensor changed the tensor", ch)
		}
	}
}

func TestImageClamps(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	chw := []float32{-1, 1, -5, 5, nan, inf, -inf, 0, 0.5}
	want := []uint8{0, 255, 0, 255, 0, 255, 0, 128, 191}
	g := Image(chw, 3, 1).(*image.Gray)
	if !bytes.Equal(g.Pix, want) {
		t.Errorf("got %v, want %v", g.Pix, want)
	}
	rgb := Image(append(append(append([]float32{}, chw...), chw...), chw...), 3, 3).(*image.RGBA)
	for i, w := range want {
		if p := rgb.Pix[4*i : 4*i+4]; p[0] != w || p[1] != w || p[2] != w || p[3] != 255 {
			t.Errorf("RGB pixel %d = %v, want %d opaque", i, p, w)
		}
	}
}

func TestHeatMapExtremes(t *testing.T) {
	bottom, top := inferno[0], inferno[len(inferno)-1]
	for _, ch := range []int{1, 3} {
		n := ch * 8 * 8
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i] = unit[i%256]
			b[i] = -a[i]
		}
		same := HeatMap(a, a, 8, ch, 0)
		if same.Rect != image.Rect(0, 0, 8, 8) {
			t.Fatalf("bounds %v", same.Rect)
		}
		assertAll(t, "identical inputs", same, bottom)

		ones, minus := make([]float32, n), make([]float32, n)
		for i := range ones {
			ones[i], minus[i] = 1, -1
		}
		assertAll(t, "largest difference", HeatMap(ones, minus, 8, ch, 0), top)
		assertAll(t, "largest difference, reversed", HeatMap(minus, ones, 8, ch, -3), top)
		assertAll(t, "max 0.5, difference 0.5", HeatMap(fill(n, 0.25), fill(n, -0.25), 8, ch, 0.5), top)
		assertAll(t, "max 0.5, difference 1", HeatMap(fill(n, 0.5), fill(n, -0.5), 8, ch, 0.5), top)
		assertAll(t, "NaN", HeatMap(fill(n, float32(math.NaN())), a, 8, ch, 0), top)
		assertAll(t, "NaN max means 2", HeatMap(ones, minus, 8, ch, float32(math.NaN())), top)
		// Halfway is the middle of the map, between stops 4 and 5.
		mid := HeatMap(fill(n, 0.5), fill(n, -0.5), 8, ch, 0).RGBAAt(0, 0)
		if mid == bottom || mid == top || mid.R < inferno[4].R || mid.R > inferno[5].R {
			t.Errorf("%d channels: a difference of 1 (half the range) gave %v", ch, mid)
		}
	}
	// One channel differing by 2 out of three averages to a third of the range.
	a, b := fill(3, 1), fill(3, 1)
	b[1] = -1
	if got, want := HeatMap(a, b, 1, 3, 0).RGBAAt(0, 0), colorAt(1.0/3); got != want {
		t.Errorf("channel average: %v, want %v", got, want)
	}
}

// TestHeatMapColourMap: the map runs from dark to light without a step back (in luma,
// to within rounding), so that a larger difference always looks brighter, and hits
// every stop exactly.
func TestHeatMapColourMap(t *testing.T) {
	prev := -1
	for i := 0; i <= 900; i++ {
		c := colorAt(float32(i) / 900)
		l := int(luma(c.R, c.G, c.B))
		if l < prev-1 { // one level for rounding each channel separately
			t.Fatalf("luma falls from %d to %d at t = %v", prev, l, float32(i)/900)
		}
		prev = l
		if c.A != 255 {
			t.Fatalf("alpha %d at t = %v", c.A, float32(i)/900)
		}
	}
	for i, want := range inferno {
		if got := colorAt(float32(i) / float32(len(inferno)-1)); got != want {
			t.Errorf("stop %d: %v, want %v", i, got, want)
		}
	}
	if colorAt(-1) != inferno[0] || colorAt(7) != inferno[len(inferno)-1] {
		t.Error("colorAt does not clamp")
	}
}

func fill(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func assertAll(t *testing.T, what string, m *image.RGBA, want color.RGBA) {
	t.Helper()
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			if got := m.RGBAAt(x, y); got != want {
				t.Fatalf("%s: (%d, %d) = %v, want %v", what, x, y, got, want)
			}
		}
	}
}

func TestEncodePNG(t *testing.T) {
	// 10×10 is stored, 64×64 compressed (4 KiB of pixels is the line): both decode to
	// the image.
	for _, n := range []int{10, 64} {
		img := Image(Tensor(nil, colourful(n, n), n, 3), n, 3)
		b, err := EncodePNG(img)
		if err != nil {
			t.Fatal(err)
		}
		back, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				if g, w := color.RGBAModel.Convert(back.At(x, y)), img.At(x, y); g != w {
					t.Fatalf("%d×%d: (%d, %d) = %v, want %v", n, n, x, y, g, w)
				}
			}
		}
	}
	if _, err := EncodePNG(image.NewGray(image.Rectangle{})); err == nil {
		t.Error("EncodePNG of an empty image did not fail")
	}
}
