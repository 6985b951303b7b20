package imageio

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestDecodeFormats(t *testing.T) {
	cases := []struct {
		name, format string
		data         []byte
		w, h         int
	}{
		{"png-gray", "png", encodePNG(t, grayRamp(28, 28)), 28, 28},
		{"png-nrgba", "png", encodePNG(t, colourful(40, 30)), 40, 30},
		{"png-paletted", "png", encodePNG(t, paletted(7, 5)), 7, 5},
		{"png-gray16", "png", encodePNG(t, image.NewGray16(image.Rect(0, 0, 3, 9))), 3, 9},
		{"jpeg-ycbcr", "jpeg", encodeJPEG(t, colourful(33, 17)), 33, 17},
		{"jpeg-gray", "jpeg", encodeJPEG(t, grayRamp(16, 16)), 16, 16},
		{"gif", "gif", encodeGIF(t, paletted(12, 10)), 12, 10},
		{"webp-lossy", "webp", webpLossy, 1, 1},
		{"webp-lossless", "webp", webpLossless, 1, 1},
		{"webp-alpha", "webp", webpAlpha, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, format, err := Decode(c.data, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if format != c.format {
				t.Errorf("format %q, want %q", format, c.format)
			}
			if b := img.Bounds(); b != image.Rect(0, 0, c.w, c.h) {
				t.Errorf("bounds %v, want %dx%d", b, c.w, c.h)
			}
		})
	}
}

func TestDecodePNGPixels(t *testing.T) {
	want := colourful(9, 4)
	img, _, err := Decode(encodePNG(t, want), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 9; x++ {
			if g, w := color.NRGBAModel.Convert(img.At(x, y)), want.At(x, y); g != w {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, g, w)
			}
		}
	}
}

// TestDecodeRefuses checks each refused case: its kind, and that the message says what
// is wrong (the format, the dimensions, the limit).
func TestDecodeRefuses(t *testing.T) {
	good := encodePNG(t, colourful(40, 30))
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 1000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	random[0] = 0 // no magic by chance
	cases := []struct {
		name string
		data []byte
		lim  Limits
		kind error
		msg  []string // substrings of the message
	}{
		{"empty", []byte{}, DefaultLimits, ErrFormat, []string{"not a PNG, JPEG, GIF or WebP image", "empty"}},
		{"nil", nil, DefaultLimits, ErrFormat, []string{"empty"}},
		{"random", random, DefaultLimits, ErrFormat, []string{"imageio: not a PNG, JPEG, GIF or WebP image"}},
		{"text", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), DefaultLimits, ErrFormat, nil},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), DefaultLimits, ErrFormat, nil},
		{"png-magic-only", []byte(pngMagic), DefaultLimits, ErrCorrupt, []string{"truncated PNG"}},
		{"png-truncated-header", good[:20], DefaultLimits, ErrCorrupt, []string{"truncated PNG", "unexpected EOF"}},
		{"png-truncated-pixels", good[:len(good)-20], DefaultLimits, ErrCorrupt, []string{"PNG"}},
		{"png-bad-crc", append(append([]byte{}, good[:29]...), 0, 0, 0, 0), DefaultLimits, ErrCorrupt, []string{"PNG", "checksum"}},
		{"jpeg-truncated", encodeJPEG(t, colourful(40, 30))[:100], DefaultLimits, ErrCorrupt, []string{"truncated JPEG"}},
		{"gif-truncated", encodeGIF(t, paletted(40, 30))[:40], DefaultLimits, ErrCorrupt, []string{"truncated GIF"}},
		{"webp-truncated", webpLossless[:25], DefaultLimits, ErrCorrupt, []string{"truncated WebP"}},
		{"png-zero-width", pngHeaderOnly(0, 16), DefaultLimits, ErrZeroSize, []string{"PNG", "0×16"}},
		{"png-zero-height", pngHeaderOnly(16, 0), DefaultLimits, ErrZeroSize, []string{"16×0"}},
		{"gif-zero-width", gifHeaderOnly(0, 10), DefaultLimits, ErrZeroSize, []string{"GIF", "0×10"}},
		{"png-huge-sides", pngHeaderOnly(100000, 100000), DefaultLimits, ErrTooLarge, []string{"PNG", "100000×100000", "16384"}},
		{"png-wide", pngHeaderOnly(20000, 1), DefaultLimits, ErrTooLarge, []string{"20000×1", "16384"}},
		{"png-many-pixels", pngHeaderOnly(8000, 6000), DefaultLimits, ErrTooLarge, []string{"8000×6000", "48000000", "40000000"}},
		{"png-more-pixels-than-bytes", pngHeaderOnly(6000, 6000), DefaultLimits, ErrCorrupt, []string{"PNG", "6000×6000", "45-byte file"}},
		{"gif-huge", gifHeaderOnly(65535, 65535), DefaultLimits, ErrTooLarge, []string{"GIF", "65535×65535"}},
		{"custom-side", good, Limits{MaxSide: 32}, ErrTooLarge, []string{"40×30", "32 pixels"}},
		{"custom-pixels", good, Limits{MaxPixels: 1000}, ErrTooLarge, []string{"1200 pixels", "1000 pixels"}},
		{"custom-bytes", good, Limits{MaxBytes: 100}, ErrTooLarge, []string{"bytes", "100 bytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img, format, err := Decode(c.data, c.lim)
			if err == nil {
				t.Fatalf("accepted: %s %v", format, img.Bounds())
			}
			if img != nil || format != "" {
				t.Errorf("returned %v, %q with the error", img, format)
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("error %q does not wrap %q", err, c.kind)
			}
			for _, s := range c.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if !strings.HasPrefix(err.Error(), "imageio: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestDecodeWrapsDecoderError(t *testing.T) {
	good := encodePNG(t, colourful(40, 30))
	_, _, err := Decode(good[:20], DefaultLimits)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrCorrupt) {
		t.Errorf("error %q should wrap both ErrCorrupt and io.ErrUnexpectedEOF", err)
	}
	if errors.Is(err, errDecoderPanicked) {
		t.Errorf("error %q claims a panic", err)
	}
}

// TestDecodeHugeHeaderIsCheap: a 100000×100000 PNG header (10 GB of pixels) is refused
// from its header, with a few small allocations, however much memory is around.
func TestDecodeHugeHeaderIsCheap(t *testing.T) {
	data := pngHeaderOnly(100000, 100000)
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := Decode(data, DefaultLimits); !errors.Is(err, ErrTooLarge) {
			t.Fatal(err)
		}
	})
	const runs = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		Decode(data, DefaultLimits)
	}
	runtime.ReadMemStats(&after)
	perCall := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("refusing a 100000×100000 PNG header: %.0f allocations, %d bytes", allocs, perCall)
	if allocs > 20 {
		t.Errorf("%.0f allocations to refuse a header, want at most 20", allocs)
	}
	if perCall > 16<<10 {
		t.Errorf("%d bytes allocated to refuse a header, want at most 16 KiB", perCall)
	}
}

// TestDecodePNGRatioBound: the check that a PNG's bytes can hold its pixels refuses a
// 6000×6000 header with no data as cheaply as a 100000×100000 one, and does not refuse
// the most compressible real PNG: a large all-black image at the best compression.
func TestDecodePNGRatioBound(t *testing.T) {
	data := pngHeaderOnly(6000, 6000)
	allocs := testing.AllocsPerRun(20, func() {
		if _, _, err := Decode(data, DefaultLimits); !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
	})
	if allocs > 20 {
		t.Errorf("%.0f allocations to refuse a 6000×6000 header, want at most 20", allocs)
	}

	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, image.NewGray(image.Rect(0, 0, 3000, 3000))); err != nil {
		t.Fatal(err)
	}
	raw := 3000 * 3001
	t.Logf("3000×3000 black PNG: %d bytes, ratio %.0f:1 (bound %d:1)", buf.Len(), float64(raw)/float64(buf.Len()), deflateMaxRatio)
	if _, _, err := Decode(buf.Bytes(), DefaultLimits); err != nil {
		t.Errorf("refused a valid, highly compressed PNG: %v", err)
	}
}

// TestDecodeLimitsDefaults: Limits{} and negative fields mean DefaultLimits, not "none".
func TestDecodeLimitsDefaults(t *testing.T) {
	if _, _, err := Decode(pngHeaderOnly(100000, 100000), Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Limits{} let a 100000×100000 header through: %v", err)
	}
	if _, _, err := Decode(pngHeaderOnly(8000, 6000), Limits{MaxBytes: -1, MaxPixels: -1, MaxSide: -1}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("negative limits let 48 Mpx through: %v", err)
	}
	if _, _, err := Decode(encodePNG(t, grayRamp(28, 28)), Limits{}); err != nil {
		t.Errorf("Limits{} refused a 28×28 PNG: %v", err)
	}
	// Exactly at the limits passes.
	if _, _, err := Decode(encodePNG(t, grayRamp(40, 30)), Limits{MaxBytes: 1 << 20, MaxPixels: 1200, MaxSide: 40}); err != nil {
		t.Errorf("an image exactly at the limits was refused: %v", err)
	}
}

// TestDecodeGIFFirstFrameOnCanvas: a GIF whose first frame covers part of its canvas
// decodes to the whole canvas, transparent (black once in a tensor) around the frame.
func TestDecodeGIFFirstFrameOnCanvas(t *testing.T) {
	pal := color.Palette{color.Black, color.White}
	frame := image.NewPaletted(image.Rect(2, 3, 6, 5), pal)
	for i := range frame.Pix {
		frame.Pix[i] = 1
	}
	var buf bytes.Buffer
	anim := &gif.GIF{
		Image:  []*image.Paletted{frame, image.NewPaletted(image.Rect(0, 0, 10, 8), pal)},
		Delay:  []int{0, 0},
		Config: image.Config{ColorModel: pal, Width: 10, Height: 8},
	}
	if err := gif.EncodeAll(&buf, anim); err != nil {
		t.Fatal(err)
	}
	img, _, err := Decode(buf.Bytes(), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b != image.Rect(0, 0, 10, 8) {
		t.Fatalf("bounds %v, want the 10×8 canvas", b)
	}
	for y := 0; y < 8; y++ {
		for x := 0; x < 10; x++ {
			r, _, _, a := img.At(x, y).RGBA()
			in := image.Pt(x, y).In(frame.Rect)
			if in && (r != 0xffff || a != 0xffff) || !in && a != 0 {
				t.Fatalf("(%d,%d) = %v; inside the frame: %v", x, y, img.At(x, y), in)
			}
		}
	}
}

func TestLoad(t *testing.T) {
	data := encodePNG(t, grayRamp(28, 28))
	got, err := Load(data, 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	img, _, _ := Decode(data, DefaultLimits)
	if want := Tensor(nil, img, 32, 1); !slices.Equal(got, want) {
		t.Error("Load differs from Decode + Tensor")
	}
	if got, err := Load(data, 16, 3); err != nil || len(got) != 3*16*16 {
		t.Errorf("Load(16, 3): %d values, %v", len(got), err)
	}
	for _, c := range []struct{ size, channels int }{{0, 1}, {-3, 1}, {32, 2}, {32, 4}, {32, 0}, {1 << 20, 1}} {
		if _, err := Load(data, c.size, c.channels); err == nil || !strings.HasPrefix(err.Error(), "imageio: ") {
			t.Errorf("Load(size %d, channels %d) = %v, want an error", c.size, c.channels, err)
		}
	}
	if _, err := Load([]byte("GIF89a"), 32, 1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of a truncated GIF: %v", err)
	}
}

func TestUserMessage(t *testing.T) {
	for _, c := range []struct {
		data []byte
		want string
	}{
		{[]byte("these are notes, not an image"), "Not an image we can read (PNG, JPEG, GIF or WebP)"},
		{nil, "Not an image we can read (PNG, JPEG, GIF or WebP): the file is empty"},
		{[]byte("\x89PNG\r\n\x1a\n\x00\x00"), "This file is damaged or cut short"},
	} {
		_, _, err := Decode(c.data, DefaultLimits)
		if err == nil {
			t.Fatalf("%q decoded", c.data)
		}
		if got := UserMessage(err); !strings.HasPrefix(got, c.want) || strings.Contains(got, "imageio") {
			t.Errorf("%q: %q, want it to start with %q and name no package", c.data, got, c.want)
		}
	}
	if got := UserMessage(errors.New("other")); got != "other" {
		t.Errorf("another error became %q", got)
	}
}
