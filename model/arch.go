package model

import "fmt"

// Op is what one module of a network does.
type Op int

const (
	OpConv          Op = iota // 2-D convolution without bias, weight [Out, In, K, K]
	OpConvTranspose           // 2-D transposed convolution without bias, weight [In, Out, K, K]
	OpBatchNorm               // 2-D batch norm over Out channels
	OpLeakyReLU               // LeakyReLU with slope 0.2
	OpReLU
	OpTanh
	OpSigmoid
)

var opNames = [...]string{"conv", "convtranspose", "batchnorm", "leakyrelu", "relu", "tanh", "sigmoid"}

func (o Op) String() string {
	if o < 0 || int(o) >= len(opNames) {
		return fmt.Sprintf("Op(%d)", int(o))
	}
	return opNames[o]
}

// BatchNormEps is PyTorch's default epsilon for BatchNorm2d, used by the official code.
const BatchNormEps = 1e-5

// LeakySlope is the negative slope of every LeakyReLU in GANomaly.
const LeakySlope = 0.2

// Module is one layer of a network, named as the official PyTorch module is, so that
// Path + ".weight" is the key of its weight in an official state_dict.
type Module struct {
	Path   string // e.g. "encoder1.main.pyramid-64-128-conv" or "features.2"
	Op     Op
	In     int // input channels
	Out    int // output channels (== In for batch norm and activations)
	Kernel int
	Stride int
	Pad    int
}

// Param is one named tensor of a module: a learnt parameter or a batch-norm buffer.
type Param struct {
	Name  string // full name, Path + "." + Role
	Role  string // what it is to its module: RoleWeight, RoleBias, RoleRunningMean or RoleRunningVar
	Shape []int
	// Init says how the official code initialises it (weights_init in lib/networks.py):
	// "normal(0,0.02)" for conv weights, "normal(1,0.02)" for BN weights, "zeros", "ones".
	Init string
	// Buffer marks running statistics, which are not trained by gradient.
	Buffer bool
}

// Roles of a Param in its module: the suffix of its official name.
const (
	RoleWeight      = "weight"
	RoleBias        = "bias"
	RoleRunningMean = "running_mean"
	RoleRunningVar  = "running_var"
)

// Params lists the tensors of m in a fixed order. num_batches_tracked, an int64 counter
// in PyTorch, is not listed: inference does not use it.
func (m Module) Params() []Param {
	switch m.Op {
	case OpConv:
		return []Param{{Name: m.Path + ".weight", Role: RoleWeight, Shape: []int{m.Out, m.In, m.Kernel, m.Kernel}, Init: "normal(0,0.02)"}}
	case OpConvTranspose:
		return []Param{{Name: m.Path + ".weight", Role: RoleWeight, Shape: []int{m.In, m.Out, m.Kernel, m.Kernel}, Init: "normal(0,0.02)"}}
	case OpBatchNorm:
		c := []int{m.Out}
		return []Param{
			{Name: m.Path + ".weight", Role: RoleWeight, Shape: c, Init: "normal(1,0.02)"},
			{Name: m.Path + ".bias", Role: RoleBias, Shape: c, Init: "zeros"},
			{Name: m.Path + ".running_mean", Role: RoleRunningMean, Shape: c, Init: "zeros", Buffer: true},
			{Name: m.Path + ".running_var", Role: RoleRunningVar, Shape: c, Init: "ones", Buffer: true},
		}
	}
	return nil
}

// OutSize is the spatial side of m's output for an input of side in.
func (m Module) OutSize(in int) int {
	switch m.Op {
	case OpConv:
		return (in+2*m.Pad-m.Kernel)/m.Stride + 1
	case OpConvTranspose:
		return (in-1)*m.Stride - 2*m.Pad + m.Kernel
	}
	return in
}

// Sequential is a chain of modules applied in order, like torch.nn.Sequential.
type Sequential []Module

// Params lists every tensor of the chain in order.
func (s Sequential) Params() []Param {
	var ps []Param
	for _, m := range s {
		ps = append(ps, m.Params()...)
	}
	return ps
}

// GeneratorArch is the generator G = encoder1 → decoder → encoder2 (official NetG).
type GeneratorArch struct {
	Encoder1, Decoder, Encoder2 Sequential
}

// Params lists every tensor of the generator.
func (g GeneratorArch) Params() []Param {
	var ps []Param
	for _, s := range []Sequential{g.Encoder1, g.Decoder, g.Encoder2} {
		ps = append(ps, s.Params()...)
	}
	return ps
}

// DiscriminatorArch is the official NetD: an encoder with nz = 1, split into Features
// (everything but the last convolution) and Classifier (last convolution + sigmoid).
type DiscriminatorArch struct {
	Features, Classifier Sequential
}

// Params lists every tensor of the discriminator.
func (d DiscriminatorArch) Params() []Param {
	return append(d.Features.Params(), d.Classifier.Params()...)
}

// Generator returns the generator's layers for c. c must be valid.
func (c Config) Generator() GeneratorArch {
	mustValid(c)
	return GeneratorArch{
		Encoder1: c.encoder("encoder1.main", c.Latent),
		Decoder:  c.decoder("decoder.main"),
		Encoder2: c.encoder("encoder2.main", c.Latent),
	}
}

// Discriminator returns the discriminator's layers for c. Its modules are named by
// position, because the official NetD rebuilds its Sequentials from a list of children.
func (c Config) Discriminator() DiscriminatorArch {
	mustValid(c)
	enc := c.encoder("", 1)
	last := len(enc) - 1
	var d DiscriminatorArch
	for i, m := range enc[:last] {
		m.Path = fmt.Sprintf("features.%d", i)
		d.Features = append(d.Features, m)
	}
	final := enc[last]
	final.Path = "classifier.0"
	d.Classifier = Sequential{final, {Path: "classifier.Sigmoid", Op: OpSigmoid, In: 1, Out: 1}}
	return d
}

func mustValid(c Config) {
	if err := c.Validate(); err != nil {
		panic("model: " + err.Error())
	}
}

// encoder follows the official Encoder: a stride-2 conv without BN, extra layers,
// a pyramid of stride-2 conv + BN + LeakyReLU down to 4×4, and a 4×4 conv to nz×1×1.
func (c Config) encoder(prefix string, nz int) Sequential {
	name := func(format string, args ...any) string {
		n := fmt.Sprintf(format, args...)
		if prefix == "" {
			return n
		}
		return prefix + "." + n
	}
	w := c.Width
	s := Sequential{
		{Path: name("initial-conv-%d-%d", c.Channels, w), Op: OpConv, In: c.Channels, Out: w, Kernel: 4, Stride: 2, Pad: 1},
		{Path: name("initial-relu-%d", w), Op: OpLeakyReLU, In: w, Out: w},
	}
	for t := 0; t < c.ExtraLayers; t++ {
		s = append(s,
			Module{Path: name("extra-layers-%d-%d-conv", t, w), Op: OpConv, In: w, Out: w, Kernel: 3, Stride: 1, Pad: 1},
			Module{Path: name("extra-layers-%d-%d-batchnorm", t, w), Op: OpBatchNorm, In: w, Out: w},
			Module{Path: name("extra-layers-%d-%d-relu", t, w), Op: OpLeakyReLU, In: w, Out: w},
		)
	}
	for size := c.ImageSize / 2; size > 4; size /= 2 {
		s = append(s,
			Module{Path: name("pyramid-%d-%d-conv", w, 2*w), Op: OpConv, In: w, Out: 2 * w, Kernel: 4, Stride: 2, Pad: 1},
			Module{Path: name("pyramid-%d-batchnorm", 2*w), Op: OpBatchNorm, In: 2 * w, Out: 2 * w},
			Module{Path: name("pyramid-%d-relu", 2*w), Op: OpLeakyReLU, In: 2 * w, Out: 2 * w},
		)
		w *= 2
	}
	// The "1" is a literal in the official format string, whatever nz is.
	return append(s, Module{Path: name("final-%d-1-conv", w), Op: OpConv, In: w, Out: nz, Kernel: 4, Stride: 1, Pad: 0})
}

// decoder follows the official Decoder: a 4×4 transposed conv from nz×1×1, a pyramid of
// stride-2 transposed conv + BN + ReLU up to ImageSize/2, extra layers, and a stride-2
// transposed conv to the image with Tanh.
func (c Config) decoder(prefix string) Sequential {
	name := func(format string, args ...any) string { return prefix + "." + fmt.Sprintf(format, args...) }
	w := c.topWidth()
	s := Sequential{
		{Path: name("initial-%d-%d-convt", c.Latent, w), Op: OpConvTranspose, In: c.Latent, Out: w, Kernel: 4, Stride: 1, Pad: 0},
		{Path: name("initial-%d-batchnorm", w), Op: OpBatchNorm, In: w, Out: w},
		{Path: name("initial-%d-relu", w), Op: OpReLU, In: w, Out: w},
	}
	for size := 4; size < c.ImageSize/2; size *= 2 {
		s = append(s,
			Module{Path: name("pyramid-%d-%d-convt", w, w/2), Op: OpConvTranspose, In: w, Out: w / 2, Kernel: 4, Stride: 2, Pad: 1},
			Module{Path: name("pyramid-%d-batchnorm", w/2), Op: OpBatchNorm, In: w / 2, Out: w / 2},
			Module{Path: name("pyramid-%d-relu", w/2), Op: OpReLU, In: w / 2, Out: w / 2},
		)
		w /= 2
	}
	for t := 0; t < c.ExtraLayers; t++ {
		s = append(s,
			Module{Path: name("extra-layers-%d-%d-conv", t, w), Op: OpConv, In: w, Out: w, Kernel: 3, Stride: 1, Pad: 1},
			Module{Path: name("extra-layers-%d-%d-batchnorm", t, w), Op: OpBatchNorm, In: w, Out: w},
			Module{Path: name("extra-layers-%d-%d-relu", t, w), Op: OpReLU, In: w, Out: w},
		)
	}
	return append(s,
		Module{Path: name("final-%d-%d-convt", w, c.Channels), Op: OpConvTranspose, In: w, Out: c.Channels, Kernel: 4, Stride: 2, Pad: 1},
		Module{Path: name("final-%d-tanh", c.Channels), Op: OpTanh, In: c.Channels, Out: c.Channels},
	)
}
