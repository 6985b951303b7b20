package inference

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
)

func testWeights(t *testing.T, cfg model.Config) []byte {
	t.Helper()
	f := &model.WeightsFile{
		Config:      cfg,
		Calibration: model.Calibration{Score: model.ScoreMSE, Min: 0, Max: 0.01, Threshold: 0.004},
		Tensors:     model.InitTensors(cfg.Generator().Params(), rand.New(rand.NewPCG(1, 2))),
	}
	b, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digitPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 4; y < 24; y++ {
		img.SetGray(14, y, color.Gray{255})
		img.SetGray(15, y, color.Gray{200})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestScore(t *testing.T) {
	for _, cfg := range []model.Config{
		{ImageSize: 16, Channels: 1, Latent: 8, Width: 4},
		{ImageSize: 32, Channels: 3, Latent: 10, Width: 8},
	} {
		weights := testWeights(t, cfg)
		s, err := Load(weights)
		if err != nil {
			t.Fatal(err)
		}
		file := digitPNG(t)
		o, err := s.Score(file)
		if err != nil {
			t.Fatal(err)
		}
		// The same numbers as the model's own path, from scratch.
		d, _ := model.LoadDetector(weights)
		x, _ := imageio.Load(file, cfg.ImageSize, cfg.Channels)
		wants, err := d.Score(nil, x, 1)
		if err != nil {
			t.Fatal(err)
		}
		want := wants[0]
		if o.Result != want {
			t.Errorf("%+v: result %+v, want %+v", cfg, o.Result, want)
		}
		if len(o.Z) != cfg.Latent || len(o.ZHat) != cfg.Latent || len(o.XHat) != cfg.InputLen() {
			t.Errorf("%+v: lengths z %d ẑ %d x̂ %d", cfg, len(o.Z), len(o.ZHat), len(o.XHat))
		}
		if got := model.AnomalyScore(o.Z, o.ZHat, model.ScoreMSE); got != o.Raw {
			t.Errorf("%+v: z and ẑ give %g, raw is %g", cfg, got, o.Raw)
		}
		for name, b := range map[string][]byte{"input": o.InputPNG, "recon": o.ReconPNG, "heat": o.HeatPNG} {
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s PNG: %v", name, err)
			}
			if img.Bounds().Dx() != cfg.ImageSize || img.Bounds().Dy() != cfg.ImageSize {
				t.Errorf("%s PNG is %v", name, img.Bounds())
			}
		}
		// A second image does not disturb what the first returned (copies, not buffers).
		z0 := append([]float32(nil), o.Z...)
		if _, err := s.Score(file); err != nil {
			t.Fatal(err)
		}
		for i := range z0 {
			if z0[i] != o.Z[i] {
				t.Fatal("an outcome's z changed when the session scored again")
			}
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := Load([]byte("junk")); !errors.Is(err, model.ErrWeights) {
		t.Errorf("Load(junk) = %v, want ErrWeights", err)
	}
	s, err := Load(testWeights(t, model.Config{ImageSize: 16, Channels: 1, Latent: 8, Width: 4}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Score([]byte("not an image")); !errors.Is(err, imageio.ErrFormat) {
		t.Errorf("Score(text) = %v, want ErrFormat", err)
	}
	if _, err := s.Score(digitPNG(t)[:40]); !errors.Is(err, imageio.ErrCorrupt) {
		t.Errorf("Score(truncated) = %v, want ErrCorrupt", err)
	}
}

func TestScopeNote(t *testing.T) {
	cfg := model.Config{ImageSize: 32, Channels: 1, Latent: 100, Width: 16}
	photo := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i * 7)
	}
	note := scopeNote(photo, cfg, "mnist")
	for _, want := range []string{"A colour image made grey", "640×480 resized to 32×32", "this model knows MNIST digits"} {
		if !strings.Contains(note, want) {
			t.Errorf("photo: note %q lacks %q", note, want)
		}
	}
	digit := image.NewGray(image.Rect(0, 0, 28, 28))
	if note := scopeNote(digit, cfg, "mnist"); note != "" {
		t.Errorf("a 28×28 grey digit got a note: %q", note)
	}
	if note := scopeNote(photo, model.Config{ImageSize: 32, Channels: 3, Latent: 100, Width: 16}, ""); strings.Contains(note, "grey") || !strings.Contains(note, "resized") {
		t.Errorf("a photo for an RGB model of unknown data: %q", note)
	}
}

// TestScoreManyMatchesScore: a batch gives each file what scoring it alone gives, and a
// broken file in it fails alone.
func TestScoreManyMatchesScore(t *testing.T) {
	cfg := model.Config{ImageSize: 32, Channels: 1, Latent: 10, Width: 8}
	s, err := Load(testWeights(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var files [][]byte
	for i := range 5 {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		for p := range img.Pix {
			img.Pix[p] = uint8(rng.IntN(256))
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		files = append(files, buf.Bytes())
		if i == 2 {
			files = append(files, []byte("not an image"))
		}
	}
	outs, errs := s.ScoreMany(files)
	for i, f := range files {
		want, werr := s.Score(f)
		if (werr == nil) != (errs[i] == nil) {
			t.Fatalf("file %d: batch error %v, alone %v", i, errs[i], werr)
		}
		if werr != nil {
			continue
		}
		got := outs[i]
		if d := math.Abs(got.Raw - want.Raw); d > 1e-5*math.Abs(want.Raw) {
			t.Errorf("file %d: raw %v in a batch, %v alone", i, got.Raw, want.Raw)
		}
		for j := range want.XHat {
			if d := math.Abs(float64(got.XHat[j] - want.XHat[j])); d > 1e-5 {
				t.Fatalf("file %d: x̂[%d] %v in a batch, %v alone", i, j, got.XHat[j], want.XHat[j])
			}
		}
		if !bytes.Equal(got.InputPNG, want.InputPNG) {
			t.Errorf("file %d: the input image differs in a batch", i)
		}
	}
	if outs[0].Raw == outs[1].Raw {
		t.Error("two different images scored the same: the batch is not what it seems")
	}
}
