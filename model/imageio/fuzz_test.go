package imageio

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/gif"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model/internal/fuzzseed"
)

var update = flag.Bool("update", false, "rewrite the seed files in testdata/fuzz/FuzzLoad")

// fuzzLimits are tighter than DefaultLimits so that each run's memory stays small with
// many fuzzing workers: the limit checks are the same code whatever the numbers.
var fuzzLimits = Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 4096}

// FuzzLoad holds decoding to its promises on any input: no panic (not even one that
// Decode recovers from a decoder), every error one of the four kinds with an "imageio: "
// message, every accepted image within the limits and with the size its header gave,
// and every tensor made from it in [-1, 1] with no NaN; Load agrees with Decode then
// Tensor, and Image, HeatMap and EncodePNG take whatever Tensor makes.
//
// The corpus in testdata/fuzz/FuzzLoad holds the seed-* files (small valid files of
// every format and the hostile ones the tests craft, regenerated with
// go test -run TestFuzzSeedCorpus -update) and any input the fuzzer ever failed on.
func FuzzLoad(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		img, format, err := Decode(data, fuzzLimits)
		if err != nil {
			checkError(t, err)
			if errors.Is(err, ErrTooLarge) {
				return // Load, with DefaultLimits, might decode it at great cost
			}
			if _, lerr := Load(data, 8, 1); lerr == nil || lerr.Error() != err.Error() {
				t.Fatalf("Decode refused the file with %q but Load said %v", err, lerr)
			}
			return
		}
		b := img.Bounds()
		if b.Empty() || b.Dx() > fuzzLimits.MaxSide || b.Dy() > fuzzLimits.MaxSide ||
			int64(b.Dx())*int64(b.Dy()) > fuzzLimits.MaxPixels {
			t.Fatalf("accepted a %s image of bounds %v", format, b)
		}
		switch format {
		case "png", "jpeg", "gif", "webp":
		default:
			t.Fatalf("format %q", format)
		}

		for _, ch := range []int{1, 3} {
			x := Tensor(nil, img, 8, ch)
			for i, v := range x {
				if !(v >= -1 && v <= 1) {
					t.Fatalf("%d channels: value %d = %v", ch, i, v)
				}
			}
			back := Image(x, 8, ch)
			if !slices.Equal(Tensor(nil, back, 8, ch), x) {
				t.Fatalf("%d channels: Image then Tensor changed the tensor", ch)
			}
			heat := HeatMap(x, Tensor(nil, back, 8, ch), 8, ch, 0)
			if _, err := EncodePNG(heat); err != nil {
				t.Fatal(err)
			}
		}
		loaded, err := Load(data, 8, 1)
		if err != nil {
			t.Fatalf("Decode accepted the file but Load said %v", err)
		}
		if !slices.Equal(loaded, Tensor(nil, img, 8, 1)) {
			t.Fatal("Load differs from Decode then Tensor")
		}
	})
}

// checkError fails unless err is one Decode may return.
func checkError(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, errDecoderPanicked) {
		t.Fatalf("a decoder panicked: %v", err)
	}
	kinds := 0
	for _, k := range []error{ErrFormat, ErrTooLarge, ErrZeroSize, ErrCorrupt} {
		if errors.Is(err, k) {
			kinds++
		}
	}
	if kinds != 1 {
		t.Fatalf("error %q wraps %d kinds, want 1", err, kinds)
	}
	if !strings.HasPrefix(err.Error(), "imageio: ") {
		t.Fatalf("error %q lacks the package prefix", err)
	}
}

// seeds are the named seed inputs of FuzzLoad, kept small: a few valid files of each
// format and kind of image, then the hostile files of TestDecodeRefuses.
func seeds(t *testing.T) map[string][]byte {
	translucent := colourful(6, 5)
	for i := 3; i < len(translucent.Pix); i += 4 {
		translucent.Pix[i] = uint8(i * 9)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 4, 3))
	for i := range g16.Pix {
		g16.Pix[i] = uint8(i * 21)
	}
	var anim bytes.Buffer
	pal := color.Palette{color.Transparent, color.White, color.RGBA{255, 0, 0, 255}}
	frame := image.NewPaletted(image.Rect(1, 1, 4, 3), pal)
	for i := range frame.Pix {
		frame.Pix[i] = uint8(1 + i%2)
	}
	if err := gif.EncodeAll(&anim, &gif.GIF{
		Image:  []*image.Paletted{frame, image.NewPaletted(image.Rect(0, 0, 5, 4), pal)},
		Delay:  []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: 5, Height: 4},
	}); err != nil {
		t.Fatal(err)
	}
	png := encodePNG(t, colourful(8, 8))
	return map[string][]byte{
		"png-gray":               encodePNG(t, grayRamp(6, 6)),
		"png-rgb":                png,
		"png-translucent":        encodePNG(t, translucent),
		"png-paletted":           encodePNG(t, paletted(5, 3)),
		"png-gray16":             encodePNG(t, g16),
		"jpeg-rgb":               encodeJPEG(t, colourful(8, 8)),
		"jpeg-gray":              encodeJPEG(t, grayRamp(8, 8)),
		"gif":                    encodeGIF(t, paletted(4, 4)),
		"gif-subframe":           anim.Bytes(),
		"webp-lossy":             webpLossy,
		"webp-lossless":          webpLossless,
		"webp-alpha":             webpAlpha,
		"hostile-empty":          {},
		"hostile-random":         []byte("\x00\x9f\x12\xe4\x7a\x55\x01\xff\x80\x33\x10\x00\x42"),
		"hostile-png-100000":     pngHeaderOnly(100000, 100000),
		"hostile-png-zero-width": pngHeaderOnly(0, 16),
		"hostile-png-6000-empty": pngHeaderOnly(6000, 6000),
		"hostile-png-truncated":  png[:len(png)/2],
		"hostile-gif-zero-width": gifHeaderOnly(0, 10),
		"hostile-gif-huge":       gifHeaderOnly(65535, 65535),
	}
}

// TestFuzzSeedCorpus keeps the seed files under testdata in step with seeds.
func TestFuzzSeedCorpus(t *testing.T) {
	fuzzseed.Check(t, "FuzzLoad", "TestFuzzSeedCorpus", seeds(t), *update)
}

// TestDecoderPanicIsAnError: guard turns a panic into an error that wraps
// errDecoderPanicked, which Decode then reports as ErrCorrupt.
func TestDecoderPanicIsAnError(t *testing.T) {
	_, err := guard(func() (image.Image, error) {
		var s []int
		return nil, errors.New(strconv.Itoa(s[math.MaxInt8]))
	})
	if !errors.Is(err, errDecoderPanicked) || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("got %v", err)
	}
	wrapped := corrupt(&formats[0], err)
	if !errors.Is(wrapped, ErrCorrupt) || !errors.Is(wrapped, errDecoderPanicked) {
		t.Fatalf("got %v", wrapped)
	}
	t.Log(wrapped)
}
