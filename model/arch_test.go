package model

import (
	"errors"
	"slices"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	bad := []Config{
		{ImageSize: 28, Channels: 1, Latent: 100, Width: 64},
		{ImageSize: 48, Channels: 1, Latent: 100, Width: 64},
		{ImageSize: 8, Channels: 1, Latent: 100, Width: 64},
		{ImageSize: 1024, Channels: 1, Latent: 100, Width: 64},
		{ImageSize: 32, Channels: 2, Latent: 100, Width: 64},
		{ImageSize: 32, Channels: 1, Latent: 0, Width: 64},
		{ImageSize: 32, Channels: 1, Latent: 100, Width: 0},
		{ImageSize: 32, Channels: 1, Latent: 100, Width: 63},
		{ImageSize: 32, Channels: 1, Latent: 100, Width: 64, ExtraLayers: -1},
		{},
	}
	for _, c := range bad {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: got %v, want ErrConfig", c, err)
		}
	}
	for _, size := range []int{16, 32, 64, 128, 256, 512} {
		c := DefaultConfig()
		c.ImageSize = size
		if err := c.Validate(); err != nil {
			t.Errorf("size %d: %v", size, err)
		}
	}
}

// The names and shapes the official code gives (GANOMALY.md), for nc 1, ngf 64, nz 100.
func TestOfficialParameterNames(t *testing.T) {
	g := DefaultConfig().Generator()
	shapes := map[string][]int{}
	for _, p := range g.Params() {
		if _, dup := shapes[p.Name]; dup {
			t.Fatalf("duplicate parameter %q", p.Name)
		}
		shapes[p.Name] = p.Shape
	}
	want := map[string][]int{
		"encoder1.main.initial-conv-1-64.weight":          {64, 1, 4, 4},
		"encoder1.main.pyramid-64-128-conv.weight":        {128, 64, 4, 4},
		"encoder1.main.pyramid-128-batchnorm.weight":      {128},
		"encoder1.main.pyramid-128-batchnorm.running_var": {128},
		"encoder2.main.pyramid-128-256-conv.weight":       {256, 128, 4, 4},
		"encoder2.main.pyramid-256-batchnorm.bias":        {256},
		"encoder2.main.final-256-1-conv.weight":           {100, 256, 4, 4},
		"decoder.main.initial-100-256-convt.weight":       {100, 256, 4, 4},
		"decoder.main.initial-256-batchnorm.running_mean": {256},
		"decoder.main.pyramid-256-128-convt.weight":       {256, 128, 4, 4},
		"decoder.main.pyramid-128-64-convt.weight":        {128, 64, 4, 4},
		"decoder.main.pyramid-64-batchnorm.weight":        {64},
		"decoder.main.final-64-1-convt.weight":            {64, 1, 4, 4},
	}
	for name, shape := range want {
		got, ok := shapes[name]
		if !ok {
			t.Errorf("missing %q", name)
		} else if !slices.Equal(got, shape) {
			t.Errorf("%q: shape %v, want %v", name, got, shape)
		}
	}
	d := DefaultConfig().Discriminator()
	dshapes := map[string][]int{}
	for _, p := range d.Params() {
		dshapes[p.Name] = p.Shape
	}
	for name, shape := range map[string][]int{
		"features.0.weight": {64, 1, 4, 4}, "features.2.weight": {128, 64, 4, 4},
		"features.3.running_mean": {128}, "features.5.weight": {256, 128, 4, 4},
		"features.6.bias": {256}, "classifier.0.weight": {1, 256, 4, 4},
	} {
		if got := dshapes[name]; !slices.Equal(got, shape) {
			t.Errorf("discriminator %q: shape %v, want %v", name, got, shape)
		}
	}
}

// GANOMALY.md: G ≈ 3.20 M parameters (nc 1), D ≈ 0.66 M, buffers excluded.
func TestParameterCounts(t *testing.T) {
	count := func(ps []Param) (n int) {
		for _, p := range ps {
			if !p.Buffer {
				n += shapeLen(p.Shape)
			}
		}
		return n
	}
	c := DefaultConfig()
	if got := count(c.Generator().Params()); got != 3_200_384 {
		t.Errorf("generator has %d parameters, want 3,200,384", got)
	}
	if got := count(c.Discriminator().Params()); got != 661_248 {
		t.Errorf("discriminator has %d parameters, want 661,248", got)
	}
}

// Every chain must take the image to 1×1 (encoders) or 1×1 to the image (decoder),
// with matching channels between consecutive modules, for every valid size and extras.
func TestShapesChain(t *testing.T) {
	for _, size := range []int{16, 32, 64, 128} {
		for _, extra := range []int{0, 1, 2} {
			for _, nc := range []int{1, 3} {
				c := Config{ImageSize: size, Channels: nc, Latent: 7, Width: 6, ExtraLayers: extra}
				g := c.Generator()
				check := func(name string, s Sequential, inSize, inC, outSize, outC int) {
					size, ch := inSize, inC
					for _, m := range s {
						if m.In != ch {
							t.Fatalf("%+v %s: %q takes %d channels, gets %d", c, name, m.Path, m.In, ch)
						}
						size, ch = m.OutSize(size), m.Out
					}
					if size != outSize || ch != outC {
						t.Fatalf("%+v %s: ends at %d×%d×%d, want %d×%d×%d", c, name, ch, size, size, outC, outSize, outSize)
					}
				}
				check("encoder1", g.Encoder1, size, nc, 1, 7)
				check("decoder", g.Decoder, 1, 7, size, nc)
				check("encoder2", g.Encoder2, size, nc, 1, 7)
				d := c.Discriminator()
				check("discriminator", append(append(Sequential{}, d.Features...), d.Classifier...), size, nc, 1, 1)
			}
		}
	}
}

func TestFLOPs(t *testing.T) {
	// Two encoders of 35.95 MFLOP (BROWSER.md's DCGAN encoder at nc 3 is 35.95; at nc 1
	// it is 34.9) and the decoder: about 105 MFLOP.
	got := DefaultConfig().FLOPs()
	if got < 100e6 || got > 110e6 {
		t.Errorf("FLOPs = %d, want about 105e6", got)
	}
}
