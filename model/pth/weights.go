package pth

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
)

// Importer names this package in the provenance of the weights files it writes.
const Importer = "ganomaly-go model/pth (official PyTorch checkpoint import)"

// Import reads an official GANomaly generator checkpoint (netG.pth) held in memory and
// returns it as an uncalibrated weights file. name is the checkpoint's file name, for
// the provenance.
func Import(data []byte, name string) (*model.WeightsFile, error) {
	c, err := Read(data)
	if err != nil {
		return nil, err
	}
	return c.Weights(name)
}

// Weights checks that c holds exactly the tensors of an official GANomaly generator,
// infers its model.Config from them, reads their values (refusing NaN and Inf) and
// returns them as a weights file with no calibration (model.Uncalibrated): scores are
// raw until a calibration is computed on normal images. source names the checkpoint
// in the provenance.
func (c *Checkpoint) Weights(source string) (*model.WeightsFile, error) {
	byName := tensorsByName(c.Tensors)
	cfg, err := inferConfig(byName)
	if err != nil {
		return nil, err
	}
	arch := cfg.Generator()
	want := arch.Params()
	// Batch-norm modules may carry num_batches_tracked, which inference does not use.
	counters := map[string]bool{}
	for _, seq := range []model.Sequential{arch.Encoder1, arch.Decoder, arch.Encoder2} {
		for _, m := range seq {
			if m.Op == model.OpBatchNorm {
				counters[m.Path+".num_batches_tracked"] = true
			}
		}
	}
	wantByName := make(map[string]model.Param, len(want))
	for _, p := range want {
		wantByName[p.Name] = p
	}
	describe := describeConfig(cfg)
	prefix := modulePrefix(c.Tensors)
	for _, t := range c.Tensors {
		name := t.Name
		if counters[strings.TrimPrefix(name, prefix)] {
			if t.DType != Int64 || t.Len() != 1 {
				return nil, newError(ErrNotGenerator, "tensor %q is %s %v; num_batches_tracked is an int64 scalar", name, t.DType, t.Shape)
			}
			continue
		}
		p, ok := wantByName[strings.TrimPrefix(name, prefix)]
		if !ok {
			return nil, newError(ErrNotGenerator, "unexpected tensor %q %v: not a parameter of the GANomaly generator %s", name, t.Shape, describe)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return nil, newError(ErrNotGenerator, "tensor %q has shape %v; the GANomaly generator %s needs %v", name, t.Shape, describe, p.Shape)
		}
		if !t.DType.IsFloat() {
			return nil, newError(ErrUnsupported, "tensor %q has dtype %s: parameters must be floating point (float32, float64, float16 or bfloat16)", name, t.DType)
		}
	}
	// Tensors may share a storage. Views that do not overlap hold at most as many
	// elements as their storages together: checking that before reading anything keeps
	// what a crafted file can make us allocate within a few times its size.
	values, stored := 0, 0
	storages := map[*storage]bool{}
	for _, p := range want {
		t := byName[p.Name]
		if t == nil {
			return nil, newError(ErrNotGenerator, "tensor %q %v is missing: the GANomaly generator %s has %d tensors", p.Name, p.Shape, describe, len(want))
		}
		values += t.Len()
		if !storages[t.storage] {
			storages[t.storage] = true
			stored += t.storage.numel
		}
	}
	if values > stored {
		return nil, newError(ErrFormat, "the generator's tensors hold %d values but their storages only %d: overlapping views are not supported", values, stored)
	}
	f := &model.WeightsFile{
		Config:      cfg,
		Calibration: model.Uncalibrated(model.ScoreMSE),
		Tensors:     make(map[string][]float32, len(want)),
	}
	for _, p := range want {
		t := byName[p.Name]
		v, err := t.Float32()
		if err != nil {
			return nil, err
		}
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, newError(ErrNotGenerator, "tensor %q holds %v at index %d of %d: the checkpoint is damaged or its training diverged", t.Name, x, i, len(v))
			}
		}
		f.Tensors[p.Name] = v
	}
	f.Provenance = model.Provenance{
		Epochs:  max(c.Epoch, 0),
		Created: time.Now().UTC().Truncate(time.Second),
		Trainer: Importer,
		Notes:   c.notes(source),
	}
	return f, nil
}

func (c *Checkpoint) notes(source string) string {
	epoch := "no epoch recorded (a bare state dict)"
	if c.HasEpoch {
		epoch = fmt.Sprintf("epoch %d as saved", c.Epoch)
	}
	return fmt.Sprintf("imported from the official PyTorch checkpoint %s (%s format, %s); batch norm in eval mode with the checkpoint's running statistics; trained by the official code, whose data split is not this program's",
		source, c.Format, epoch)
}

// modulePrefix is "module." when every name carries it, as torch.nn.DataParallel's
// state dicts do, and "" otherwise.
func modulePrefix(ts []*Tensor) string {
	for _, t := range ts {
		if !strings.HasPrefix(t.Name, "module.") {
			return ""
		}
	}
	return "module."
}

// tensorsByName indexes the tensors by name, without a DataParallel "module." prefix.
// The *Tensor values keep their names as stored, for error messages.
func tensorsByName(ts []*Tensor) map[string]*Tensor {
	prefix := modulePrefix(ts)
	m := make(map[string]*Tensor, len(ts))
	for _, t := range ts {
		m[strings.TrimPrefix(t.Name, prefix)] = t
	}
	return m
}

var (
	initialConv = regexp.MustCompile(`^encoder1\.main\.initial-conv-\d+-\d+\.weight$`)
	pyramidConv = regexp.MustCompile(`^encoder1\.main\.pyramid-\d+-\d+-conv\.weight$`)
	extraConv   = regexp.MustCompile(`^encoder1\.main\.extra-layers-\d+-\d+-conv\.weight$`)
	finalConv   = regexp.MustCompile(`^encoder1\.main\.final-\d+-1-conv\.weight$`)
)

// maxPyramid bounds the pyramid levels counted (model.MaxImageSize is 16·2^5).
const maxPyramid = 10

// inferConfig reads the model.Config from encoder1's tensors: width and channels
// from the first convolution [ngf, nc, 4, 4], the latent size from the last one
// [nz, ·, 4, 4], the image size from the number of pyramid levels (each halves the
// image, from isize/2 down to 4) and the extra layers from their count. Whether the
// other tensors agree is checked against the generator this config builds.
func inferConfig(ts map[string]*Tensor) (model.Config, error) {
	var initial, final []*Tensor
	pyramid, extra := 0, 0
	for name, t := range ts {
		switch {
		case initialConv.MatchString(name):
			initial = append(initial, t)
		case finalConv.MatchString(name):
			final = append(final, t)
		case pyramidConv.MatchString(name):
			pyramid++
		case extraConv.MatchString(name):
			extra++
		}
	}
	if len(initial) != 1 || len(final) != 1 {
		return model.Config{}, notGenerator(ts)
	}
	first, last := initial[0], final[0]
	if len(first.Shape) != 4 || len(last.Shape) != 4 {
		return model.Config{}, newError(ErrNotGenerator, "tensors %q %v and %q %v: the first and last convolutions of encoder1 have 4 dimensions", first.Name, first.Shape, last.Name, last.Shape)
	}
	if pyramid == 0 || pyramid > maxPyramid {
		return model.Config{}, newError(ErrNotGenerator, "encoder1 has %d pyramid convolutions (encoder1.main.pyramid-*-conv.weight): a GANomaly encoder has 1 for 16×16 images, 2 for 32×32 and so on", pyramid)
	}
	cfg := model.Config{
		ImageSize:   8 << pyramid,
		Channels:    first.Shape[1],
		Latent:      last.Shape[0],
		Width:       first.Shape[0],
		ExtraLayers: extra,
	}
	if err := cfg.Validate(); err != nil {
		return model.Config{}, newError(ErrUnsupported, "the checkpoint's shapes give a generator %s, which this program cannot run: %v", describeConfig(cfg), err)
	}
	return cfg, nil
}

// notGenerator explains why a state dict is not a GANomaly generator's.
func notGenerator(ts map[string]*Tensor) error {
	names := make([]string, 0, len(ts))
	for name := range ts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, n := range names {
		if strings.HasPrefix(n, "features.") || strings.HasPrefix(n, "classifier.") {
			return newError(ErrNotGenerator, "this is a discriminator's state dict (netD.pth: names features.* and classifier.*): import the generator's, netG.pth")
		}
	}
	sample := names[:min(3, len(names))]
	return newError(ErrNotGenerator, "no single encoder1.main.initial-conv-<nc>-<ngf>.weight and encoder1.main.final-<width>-1-conv.weight: this is not the state dict of an official GANomaly generator (NetG); its names include %q", sample)
}

func describeConfig(c model.Config) string {
	return fmt.Sprintf("(image %d, channels %d, latent %d, width %d, extra layers %d, read from encoder1)", c.ImageSize, c.Channels, c.Latent, c.Width, c.ExtraLayers)
}
