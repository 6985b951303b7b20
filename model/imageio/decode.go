package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Limits guards decoding against hostile or absurd files. A field that is zero or
// negative takes its value from DefaultLimits, so Limits{} means the defaults, never
// "no limit".
type Limits struct {
	MaxBytes  int64 // length of the encoded file
	MaxPixels int64 // width × height, as the file's header gives them
	MaxSide   int   // width, and height, each
}

// DefaultLimits pass a photo from any current camera (up to 40 Mpx, 32 MiB) and refuse
// what no one means to score.
var DefaultLimits = Limits{MaxBytes: 32 << 20, MaxPixels: 40_000_000, MaxSide: 16384}

// withDefaults fills the fields left zero or negative from DefaultLimits.
func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultLimits.MaxSide
	}
	return l
}

// format is one accepted file format.
type format struct {
	name   string // as package image names it: the name Decode returns
	title  string // for messages
	magic  func(data []byte) bool
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// formats are tried in order on the file's first bytes. The decoders are called
// directly, not through image.Decode, so that exactly these four formats are accepted
// whatever else the program registers with package image.
var formats = [...]format{
	{"png", "PNG", isPNG, png.DecodeConfig, png.Decode},
	{"jpeg", "JPEG", isJPEG, jpeg.DecodeConfig, jpeg.Decode},
	{"gif", "GIF", isGIF, gif.DecodeConfig, gif.Decode},
	{"webp", "WebP", isWebP, webp.DecodeConfig, webp.Decode},
}

const pngMagic = "\x89PNG\r\n\x1a\n"

func isPNG(b []byte) bool  { return bytes.HasPrefix(b, []byte(pngMagic)) }
func isJPEG(b []byte) bool { return bytes.HasPrefix(b, []byte("\xff\xd8")) }
func isGIF(b []byte) bool {
	return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
}

// isWebP checks the RIFF container only, not the VP8/VP8L/VP8X chunk after it, so that
// a WebP file cut short right after "WEBP" is reported as truncated WebP.
func isWebP(b []byte) bool {
	return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP"
}

// Decode decodes a PNG, JPEG, GIF or WebP file and returns the image and its format
// name ("png", "jpeg", "gif" or "webp"). It reads the header first and refuses an image
// with a zero side, or one larger than lim allows, before it decodes or allocates
// pixels. The first frame of an animated GIF is returned on the GIF's full canvas.
//
// Every error wraps one of ErrFormat, ErrTooLarge, ErrZeroSize or ErrCorrupt.
func Decode(data []byte, lim Limits) (image.Image, string, error) {
	lim = lim.withDefaults()
	if len(data) == 0 {
		return nil, "", &decodeError{msg: ErrFormat.Error() + ": the file is empty", kind: ErrFormat}
	}
	if n := int64(len(data)); n > lim.MaxBytes {
		return nil, "", &decodeError{kind: ErrTooLarge, msg: fmt.Sprintf(
			"imageio: image too large: the file has %d bytes (%s); the limit is %d bytes (%s)",
			n, mib(n), lim.MaxBytes, mib(lim.MaxBytes))}
	}
	var f *format
	for i := range formats {
		if formats[i].magic(data) {
			f = &formats[i]
			break
		}
	}
	if f == nil {
		return nil, "", &decodeError{msg: ErrFormat.Error(), kind: ErrFormat}
	}

	// png.DecodeConfig itself refuses a zero side as an invalid format; say what it is.
	if f.name == "png" && len(data) >= 24 && string(data[12:16]) == "IHDR" {
		w, h := binary.BigEndian.Uint32(data[16:20]), binary.BigEndian.Uint32(data[20:24])
		if w == 0 || h == 0 {
			return nil, "", zeroSize(f, int(w), int(h))
		}
	}
	cfg, err := guard(func() (image.Config, error) { return f.config(bytes.NewReader(data)) })
	if err != nil {
		return nil, "", corrupt(f, err)
	}
	if err := lim.check(f, cfg.Width, cfg.Height); err != nil {
		return nil, "", err
	}
	if f.name == "png" {
		if err := pngCanHold(data, cfg); err != nil {
			return nil, "", err
		}
	}

	img, err := guard(func() (image.Image, error) { return f.decode(bytes.NewReader(data)) })
	if err != nil {
		return nil, "", corrupt(f, err)
	}
	if img == nil { // no decoder does this; a nil image would only panic later
		return nil, "", corrupt(f, errors.New("the decoder returned no image"))
	}
	screen := image.Rect(0, 0, cfg.Width, cfg.Height)
	if f.name == "gif" && img.Bounds() != screen && img.Bounds().In(screen) {
		// A GIF's first frame may cover only part of its canvas; the rest is transparent.
		canvas := image.NewRGBA(screen)
		draw.Draw(canvas, img.Bounds(), img, img.Bounds().Min, draw.Src)
		img = canvas
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, "", corrupt(f, fmt.Errorf("its header says %d×%d pixels but it decodes to %d×%d",
			cfg.Width, cfg.Height, b.Dx(), b.Dy()))
	}
	return img, f.name, nil
}

// check refuses a w×h image that is empty or larger than l allows. Products are taken
// in int64 so that they cannot overflow where int is 32 bits.
func (l Limits) check(f *format, w, h int) error {
	if w <= 0 || h <= 0 {
		return zeroSize(f, w, h)
	}
	if w > l.MaxSide || h > l.MaxSide {
		return &decodeError{kind: ErrTooLarge, msg: fmt.Sprintf(
			"imageio: image too large: the %s is %d×%d pixels; each side is limited to %d pixels",
			f.title, w, h, l.MaxSide)}
	}
	if n := int64(w) * int64(h); n > l.MaxPixels {
		return &decodeError{kind: ErrTooLarge, msg: fmt.Sprintf(
			"imageio: image too large: the %s is %d×%d = %d pixels; the limit is %d pixels",
			f.title, w, h, n, l.MaxPixels)}
	}
	return nil
}

// deflateMaxRatio bounds how far deflate can compress: at best a 258-byte match costs
// a 1-bit length code and a 1-bit distance code.
const deflateMaxRatio = 258 * 8 / 2

// pngCanHold refuses a PNG whose header promises more pixel data than the file could
// hold even at deflate's best ratio. image/png allocates the whole image before reading
// the data, so without this a 1 KB file claiming 6000×6000 16-bit RGBA pixels (within
// DefaultLimits) would cost 288 MB before failing. data has passed png.DecodeConfig,
// so its IHDR is complete and valid.
func pngCanHold(data []byte, cfg image.Config) error {
	depth, samples := int64(data[24]), int64(1) // grey (0) and paletted (3)
	switch data[25] {
	case 2: // RGB
		samples = 3
	case 4: // grey and alpha
		samples = 2
	case 6: // RGBA
		samples = 4
	}
	rowBytes := 1 + (int64(cfg.Width)*samples*depth+7)/8 // a filter byte, then the row
	if raw := int64(cfg.Height) * rowBytes; raw/deflateMaxRatio > int64(len(data)) {
		return &decodeError{kind: ErrCorrupt, msg: fmt.Sprintf(
			"imageio: truncated or corrupt PNG file: its header says %d×%d pixels, more than a %d-byte file can hold",
			cfg.Width, cfg.Height, len(data))}
	}
	return nil
}

func zeroSize(f *format, w, h int) error {
	return &decodeError{kind: ErrZeroSize, msg: fmt.Sprintf(
		"imageio: image has zero size: the %s header says %d×%d pixels", f.title, w, h)}
}

// corrupt wraps a decoder's error, saying "truncated" when the data certainly ran out
// (decoders report many truncations in their own words, hence "truncated or corrupt").
func corrupt(f *format, err error) error {
	what := "truncated or corrupt"
	// image/gif formats its read errors with %s, which errors.Is cannot see through.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.HasSuffix(err.Error(), io.ErrUnexpectedEOF.Error()) || strings.HasSuffix(err.Error(), io.EOF.Error()) {
		what = "truncated"
	}
	return &decodeError{kind: ErrCorrupt, cause: err,
		msg: fmt.Sprintf("imageio: %s %s file: %v", what, f.title, err)}
}

// guard runs a decoder call, turning a panic into an error: the decoders are meant
// never to panic, but one that does on a hostile file must not take the program (in the
// browser, the whole tab's Go runtime) down with it.
func guard[T any](call func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v, err = zero, fmt.Errorf("%w: %v", errDecoderPanicked, p)
		}
	}()
	return call()
}

// mib formats a byte count for people.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// Load decodes an image file with DefaultLimits and converts it with Tensor into a
// channels×size×size tensor in [-1, 1]. Decoding errors are Decode's (they already say
// what went wrong and wrap ErrFormat, ErrTooLarge, ErrZeroSize or ErrCorrupt); a size
// or channel count Tensor cannot make is an error too, not a panic, since both usually
// come from a weights file.
func Load(data []byte, size, channels int) ([]float32, error) {
	if size <= 0 || size > DefaultLimits.MaxSide || (channels != 1 && channels != 3) {
		return nil, fmt.Errorf("imageio: cannot make a %d-channel %d×%d tensor: size must be in [1, %d] and channels 1 or 3",
			channels, size, size, DefaultLimits.MaxSide)
	}
	img, _, err := Decode(data, DefaultLimits)
	if err != nil {
		return nil, err
	}
	return Tensor(nil, img, size, channels), nil
}
