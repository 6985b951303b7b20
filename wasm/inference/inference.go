package inference

import (
	"fmt"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
)

// HeatMax is the difference |x − x̂| drawn at full heat. Inputs and reconstructions
// lie in [−1, 1], so differences lie in [0, 2]; 1 (half the range) keeps the small
// differences of a good reconstruction visible without saturating the large ones.
const HeatMax = 1

// Session holds one model. It reuses the generator's buffers, so it is not safe for
// concurrent use; a worker scores one image at a time.
type Session struct {
	det *model.Detector
}

// Load reads a weights file held in memory.
func Load(weights []byte) (*Session, error) {
	d, err := model.LoadDetector(weights)
	if err != nil {
		return nil, err
	}
	return &Session{det: d}, nil
}

// Detector is the session's model.
func (s *Session) Detector() *model.Detector { return s.det }

// Outcome is everything a result card shows for one image.
type Outcome struct {
	model.Result
	// Z = G_E(x) and ZHat = E(x̂), the latent pair the score compares, and XHat the
	// reconstruction (CHW in [−1, 1]), kept for the teaching view.
	Z, ZHat, XHat []float32
	// PNGs of the input as the model sees it (resized, grey when the model is),
	// of x̂ and of |x − x̂|.
	InputPNG, ReconPNG, HeatPNG []byte
}

// Score decodes one image file and runs it through the model. Errors are about the
// file and say what is wrong with it.
func (s *Session) Score(file []byte) (*Outcome, error) {
	cfg := s.det.Config()
	x, err := imageio.Load(file, cfg.ImageSize, cfg.Channels)
	if err != nil {
		return nil, err
	}
	z, xhat, zhat := s.det.Generator().Forward(x, 1)
	o := &Outcome{
		Result: s.det.Result(z, zhat),
		// Forward's slices are the generator's buffers: copy what outlives the call.
		Z:    append([]float32(nil), z...),
		ZHat: append([]float32(nil), zhat...),
		XHat: append([]float32(nil), xhat...),
	}
	if o.InputPNG, err = imageio.EncodePNG(imageio.Image(x, cfg.ImageSize, cfg.Channels)); err != nil {
		return nil, fmt.Errorf("encoding the input image: %w", err)
	}
	if o.ReconPNG, err = imageio.EncodePNG(imageio.Image(o.XHat, cfg.ImageSize, cfg.Channels)); err != nil {
		return nil, fmt.Errorf("encoding the reconstruction: %w", err)
	}
	if o.HeatPNG, err = imageio.EncodePNG(imageio.HeatMap(x, o.XHat, cfg.ImageSize, cfg.Channels, HeatMax)); err != nil {
		return nil, fmt.Errorf("encoding the heat map: %w", err)
	}
	return o, nil
}
