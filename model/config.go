package model

import (
	"errors"
	"fmt"
)

// Config fixes the shape of a GANomaly network. The zero value is not valid; start
// from [DefaultConfig].
type Config struct {
	// ImageSize is the side of the square input in pixels: 16·2^k (16, 32, 64, ...).
	ImageSize int `json:"image_size"`
	// Channels is the number of input channels: 1 (grayscale) or 3 (RGB).
	Channels int `json:"channels"`
	// Latent is the size nz of the latent vectors z and ẑ.
	Latent int `json:"latent"`
	// Width is the feature width ngf of the first encoder layer; it doubles at each
	// pyramid level. The official code uses it for the discriminator too.
	Width int `json:"width"`
	// ExtraLayers adds that many 3×3 stride-1 conv + BN + activation blocks at the first
	// width of each encoder and the last width of the decoder.
	ExtraLayers int `json:"extra_layers"`
}

// DefaultConfig is the official configuration for MNIST: 32×32 grayscale, nz 100,
// ngf 64, no extra layers.
func DefaultConfig() Config {
	return Config{ImageSize: 32, Channels: 1, Latent: 100, Width: 64, ExtraLayers: 0}
}

// Limits that keep a configuration within what a browser or a 2-core machine can run;
// they also stop a hostile weights file from asking for terabytes.
const (
	MaxImageSize   = 512
	MaxLatent      = 4096
	MaxWidth       = 1024
	MaxExtraLayers = 8
)

// ErrConfig is wrapped by every validation error of a Config.
var ErrConfig = errors.New("invalid model config")

// Validate reports the first thing wrong with c, in words a user can act on.
func (c Config) Validate() error {
	bad := func(setting, format string, args ...any) error {
		return fmt.Errorf("%w: %w", ErrConfig, &Invalid{setting, fmt.Sprintf(format, args...)})
	}
	switch {
	case c.ImageSize < 16 || c.ImageSize > MaxImageSize || !isSixteenTimesPowerOfTwo(c.ImageSize):
		return bad("image_size", "image size %d: must be 16·2^k between 16 and %d (16, 32, 64, 128, 256, 512), because each encoder level halves the image down to 4×4", c.ImageSize, MaxImageSize)
	case c.Channels != 1 && c.Channels != 3:
		return bad("channels", "channels %d: must be 1 (grayscale) or 3 (RGB)", c.Channels)
	case c.Latent < 1 || c.Latent > MaxLatent:
		return bad("latent", "latent size %d: must be between 1 and %d", c.Latent, MaxLatent)
	case c.Width < 2 || c.Width > MaxWidth || c.Width%2 != 0:
		return bad("width", "width %d: must be even and between 2 and %d (the official decoder starts from width/2)", c.Width, MaxWidth)
	case c.ExtraLayers < 0 || c.ExtraLayers > MaxExtraLayers:
		return bad("extra_layers", "extra layers %d: must be between 0 and %d", c.ExtraLayers, MaxExtraLayers)
	}
	return nil
}

func isSixteenTimesPowerOfTwo(n int) bool {
	if n%16 != 0 {
		return false
	}
	k := n / 16
	return k&(k-1) == 0
}

// InputLen is the number of floats of one input image, CHW.
func (c Config) InputLen() int { return c.Channels * c.ImageSize * c.ImageSize }

// pyramidLevels is how many stride-2 convolutions take the image from ImageSize/2 to 4.
func (c Config) pyramidLevels() int {
	levels := 0
	for s := c.ImageSize / 2; s > 4; s /= 2 {
		levels++
	}
	return levels
}

// topWidth is the channel count at the 4×4 level of the encoder and decoder.
func (c Config) topWidth() int { return c.Width << c.pyramidLevels() }
