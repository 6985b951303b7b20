package imageio

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// Images and files made in the tests: no binary fixtures beyond the three tiny WebP
// files below, which Go cannot encode.

// The 1×1 WebP files browsers are feature-tested with (Modernizr): lossy VP8, lossless
// VP8L, and VP8X with an ALPH chunk.
var (
	webpLossy    = b64("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
	webpLossless = b64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	webpAlpha    = b64("UklGRkoAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAwAAAARBxAR/Q9ERP8DAABWUDggGAAAABQBAJ0BKgEAAQAAAP4AAA3AAP7mtQAAAA==")
)

func b64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngChunk appends a PNG chunk with its length and CRC.
func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// pngHeaderOnly is a PNG that claims w×h 8-bit grey pixels in a valid IHDR and then has
// no pixel data at all: decoding it would allocate w·h bytes before finding that out.
func pngHeaderOnly(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 0, 0, 0, 0) // bit depth 8, grey, deflate, adaptive, no interlace
	b := pngChunk([]byte(pngMagic), "IHDR", ihdr)
	return pngChunk(b, "IEND", nil)
}

// gifHeaderOnly is a GIF89a whose logical screen is w×h, with no frame.
func gifHeaderOnly(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	return append(b, 0, 0, 0, 0x3b) // no colour table, background 0, aspect 0, trailer
}

// grayRamp is a w×h grey image whose pixels all differ (mod 256).
func grayRamp(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = uint8(i*37 + i/7)
	}
	return g
}

// colourful is a w×h opaque image with varied colours.
func colourful(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), uint8((x + y) * 40), 255})
		}
	}
	return m
}

// paletted is a w×h image in the web-safe palette.
func paletted(w, h int) *image.Paletted {
	m := image.NewPaletted(image.Rect(0, 0, w, h), palette.WebSafe)
	for i := range m.Pix {
		m.Pix[i] = uint8(i % len(palette.WebSafe))
	}
	return m
}
