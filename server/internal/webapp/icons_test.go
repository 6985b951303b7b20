package webapp

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/vector"
)

// The app's icons are drawn here, from one description, as SVG and as the 192 and
// 512 px PNGs a web manifest needs; the files in web/ are golden files:
//
//	go test ./server/internal/webapp -run TestIcons -update
//
// rewrites them. The picture: a ring of normal samples (white) and one anomaly (coral)
// far from it, on the app's navy.
var update = flag.Bool("update", false, "rewrite the golden files in web/ (icons)")

type circle struct {
	cx, cy, r float64
	fill      color.NRGBA
	stroke    float64 // ring width; 0 for a disc
}

const iconSide = 512

var (
	navy  = color.NRGBA{0x1d, 0x2b, 0x4f, 0xff}
	white = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	faint = color.NRGBA{0xff, 0xff, 0xff, 0x55}
	coral = color.NRGBA{0xff, 0x6b, 0x4a, 0xff}
)

func iconShapes() []circle {
	shapes := []circle{{cx: 216, cy: 296, r: 132, fill: faint, stroke: 10}}
	for i := range 10 {
		a := 2 * math.Pi * float64(i) / 10
		shapes = append(shapes, circle{cx: 216 + 132*math.Cos(a), cy: 296 + 132*math.Sin(a), r: 24, fill: white})
	}
	return append(shapes, circle{cx: 404, cy: 108, r: 46, fill: coral})
}

// iconCorner is the background's corner radius, within the safe zone of maskable
// icons.
const iconCorner = 96

func iconSVG() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d">`+"\n", iconSide, iconSide)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" rx="%d" fill="%s"/>`+"\n", iconSide, iconSide, iconCorner, hexColor(navy))
	for _, c := range iconShapes() {
		if c.stroke > 0 {
			fmt.Fprintf(&b, `<circle cx="%.2f" cy="%.2f" r="%.2f" fill="none" stroke="%s" stroke-opacity="%.3f" stroke-width="%g"/>`+"\n",
				c.cx, c.cy, c.r, hexColor(c.fill), float64(c.fill.A)/255, c.stroke)
			continue
		}
		fmt.Fprintf(&b, `<circle cx="%.2f" cy="%.2f" r="%.2f" fill="%s"/>`+"\n", c.cx, c.cy, c.r, hexColor(c.fill))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

func hexColor(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// iconPNG rasterises the shapes at side×side pixels with anti-aliasing.
func iconPNG(side int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	s := float64(side) / iconSide
	fill := func(c color.NRGBA, path func(r *vector.Rasterizer)) {
		r := vector.NewRasterizer(side, side)
		path(r)
		r.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{})
	}
	fill(navy, func(r *vector.Rasterizer) { roundedRect(r, 0, 0, iconSide*s, iconSide*s, iconCorner*s) })
	for _, c := range iconShapes() {
		fill(c.fill, func(r *vector.Rasterizer) {
			if c.stroke > 0 {
				circlePath(r, c.cx*s, c.cy*s, (c.r+c.stroke/2)*s, false)
				circlePath(r, c.cx*s, c.cy*s, (c.r-c.stroke/2)*s, true) // hole: opposite winding
				return
			}
			circlePath(r, c.cx*s, c.cy*s, c.r*s, false)
		})
	}
	return img
}

// kappa places cubic Bézier control points so that four arcs approximate a circle.
const kappa = 0.5522847498

func circlePath(r *vector.Rasterizer, cx, cy, rad float64, reverse bool) {
	k := kappa * rad
	f := func(x, y float64) (float32, float32) { return float32(x), float32(y) }
	pt := func(dx, dy float64) (float64, float64) { return cx + dx, cy + dy }
	// Four quarter arcs, clockwise from the right-most point (or anticlockwise).
	type seg struct{ c1x, c1y, c2x, c2y, x, y float64 }
	segs := []seg{
		{rad, k, k, rad, 0, rad},
		{-k, rad, -rad, k, -rad, 0},
		{-rad, -k, -k, -rad, 0, -rad},
		{k, -rad, rad, -k, rad, 0},
	}
	if reverse {
		segs = []seg{
			{rad, -k, k, -rad, 0, -rad},
			{-k, -rad, -rad, -k, -rad, 0},
			{-rad, k, -k, rad, 0, rad},
			{k, rad, rad, k, rad, 0},
		}
	}
	x0, y0 := pt(rad, 0)
	r.MoveTo(f(x0, y0))
	for _, s := range segs {
		ax, ay := pt(s.c1x, s.c1y)
		bx, by := pt(s.c2x, s.c2y)
		ex, ey := pt(s.x, s.y)
		a1, a2 := f(ax, ay)
		b1, b2 := f(bx, by)
		e1, e2 := f(ex, ey)
		r.CubeTo(a1, a2, b1, b2, e1, e2)
	}
	r.ClosePath()
}

func roundedRect(r *vector.Rasterizer, x, y, w, h, rad float64) {
	k := kappa * rad
	f32 := func(v float64) float32 { return float32(v) }
	r.MoveTo(f32(x+rad), f32(y))
	r.LineTo(f32(x+w-rad), f32(y))
	r.CubeTo(f32(x+w-rad+k), f32(y), f32(x+w), f32(y+rad-k), f32(x+w), f32(y+rad))
	r.LineTo(f32(x+w), f32(y+h-rad))
	r.CubeTo(f32(x+w), f32(y+h-rad+k), f32(x+w-rad+k), f32(y+h), f32(x+w-rad), f32(y+h))
	r.LineTo(f32(x+rad), f32(y+h))
	r.CubeTo(f32(x+rad-k), f32(y+h), f32(x), f32(y+h-rad+k), f32(x), f32(y+h-rad))
	r.LineTo(f32(x), f32(y+rad))
	r.CubeTo(f32(x), f32(y+rad-k), f32(x+rad-k), f32(y), f32(x+rad), f32(y))
	r.ClosePath()
}

func TestIcons(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "web")
	golden := map[string][]byte{"icon.svg": iconSVG()}
	for _, side := range []int{192, 512} {
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&buf, iconPNG(side)); err != nil {
			t.Fatal(err)
		}
		golden[fmt.Sprintf("icon-%d.png", side)] = buf.Bytes()
	}
	for name, want := range golden {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./server/internal/webapp -run TestIcons -update)", err)
		}
		if strings.HasSuffix(name, ".png") {
			// Compare pixels, not bytes: PNG compression may differ between Go releases.
			if !samePixels(t, got, want) {
				t.Errorf("web/%s differs from what TestIcons draws; run go test ./server/internal/webapp -run TestIcons -update", name)
			}
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("web/%s differs from what TestIcons draws; run go test ./server/internal/webapp -run TestIcons -update", name)
		}
	}
}

func samePixels(t *testing.T, a, b []byte) bool {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		return false
	}
	na := image.NewNRGBA(ia.Bounds())
	nb := image.NewNRGBA(ib.Bounds())
	draw.Draw(na, na.Bounds(), ia, ia.Bounds().Min, draw.Src)
	draw.Draw(nb, nb.Bounds(), ib, ib.Bounds().Min, draw.Src)
	return bytes.Equal(na.Pix, nb.Pix)
}
