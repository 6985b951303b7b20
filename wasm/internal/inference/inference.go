package inference

import (
	"fmt"
	"image"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
)

// HeatMax is the difference |x − x̂| drawn at full heat. Inputs and reconstructions
// lie in [−1, 1], so differences lie in [0, 2]; 1 (half the range) keeps the small
// differences of a good reconstruction visible without saturating the large ones.
const HeatMax = 1

// Session holds one model. It reuses the generator's buffers, so it is not safe for
// concurrent use; a worker scores one batch at a time.
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
	// ScopeNote, when set, says that the image is unlike what the model knows and
	// what was done to it ("a colour image made grey and 640×480 resized to 32×32:
	// this model knows MNIST digits"), for the card to show beside the score.
	ScopeNote string
}

// Score decodes one image file and runs it through the model. Errors are about the
// file and say what is wrong with it.
func (s *Session) Score(file []byte) (*Outcome, error) {
	outs, errs := s.ScoreMany([][]byte{file})
	return outs[0], errs[0]
}

// ScoreMany scores several image files in one pass of the generator: a batch makes
// wider matrix products, which keep the vector units busier than one image does. Each
// file gets its outcome or its error, as Score gives them.
func (s *Session) ScoreMany(files [][]byte) ([]*Outcome, []error) {
	cfg := s.det.Config()
	l, nz := cfg.InputLen(), cfg.Latent
	outs, errs := make([]*Outcome, len(files)), make([]error, len(files))
	notes := make([]string, len(files))
	x := make([]float32, 0, len(files)*l)
	var read []int // the files that decoded, in order
	for i, f := range files {
		// Only the tensor and the scope note outlive the decoded image: a batch of
		// photos would otherwise hold all of them at full size at once.
		img, _, err := imageio.Decode(f, imageio.DefaultLimits)
		if err != nil {
			errs[i] = err
			continue
		}
		notes[i] = scopeNote(img, cfg, s.det.File.Provenance.Dataset)
		x = append(x, imageio.Tensor(nil, img, cfg.ImageSize, cfg.Channels)...)
		read = append(read, i)
	}
	if len(read) == 0 {
		return outs, errs
	}
	z, xhat, zhat := s.det.Generator().Forward(x, len(read))
	for k, i := range read {
		outs[i], errs[i] = s.outcome(notes[i], x[k*l:(k+1)*l], z[k*nz:(k+1)*nz], xhat[k*l:(k+1)*l], zhat[k*nz:(k+1)*nz])
	}
	return outs, errs
}

// outcome judges one image of a batch from its input x and the generator's outputs.
func (s *Session) outcome(note string, x, z, xhat, zhat []float32) (*Outcome, error) {
	cfg := s.det.Config()
	res, err := s.det.Result(z, zhat)
	if err != nil {
		return nil, err
	}
	o := &Outcome{
		ScopeNote: note,
		Result:    res,
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

// scopeNote describes how an image differs from what the model was trained on, or ""
// when it does not in ways that matter: colour given to a grey model, a shape far from
// square, or a picture many times larger than the model's input (a photo, not a
// digit). A 28×28 MNIST digit scored at 32×32 gets no note.
func scopeNote(img image.Image, cfg model.Config, dataset string) string {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var what []string
	if cfg.Channels == 1 && isColour(img) {
		what = append(what, "a colour image made grey")
	}
	if long, short := max(w, h), min(w, h); short > 0 && (long > 4*cfg.ImageSize || 4*long > 5*short) {
		what = append(what, fmt.Sprintf("%d×%d resized to %d×%d", w, h, cfg.ImageSize, cfg.ImageSize))
	}
	if len(what) == 0 {
		return ""
	}
	knows := model.DescribeDataset(dataset)
	note := strings.Join(what, " and ")
	if knows != "" {
		note += ": this model knows " + knows
	}
	return strings.ToUpper(note[:1]) + note[1:]
}

// isColour reports whether any of up to 4096 sampled pixels has channels that differ
// by more than a few levels (JPEG noise on a grey photo stays below).
func isColour(img image.Image) bool {
	b := img.Bounds()
	step := max(1, b.Dx()*b.Dy()/4096)
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if i++; i%step != 0 {
				continue
			}
			r, g, bl, _ := img.At(x, y).RGBA()
			if diff(r, g) > 6<<8 || diff(g, bl) > 6<<8 || diff(r, bl) > 6<<8 {
				return true
			}
		}
	}
	return false
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
