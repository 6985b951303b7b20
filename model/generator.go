package model

import (
	"fmt"

	"github.com/ganomaly-go/ganomaly-go/model/kernel"
)

// Generator runs G = encoder1 → decoder → encoder2 in inference mode: BatchNorm uses
// its running statistics, folded into a per-channel scale and shift at load time, so an
// image's score never depends on the batch it arrives in.
//
// A Generator reuses its buffers across calls and is not safe for concurrent use; give
// each goroutine its own (they may share nothing but the read-only weights).
type Generator struct {
	cfg               Config
	encoder1, decoder []step
	encoder2          []step
	ws                kernel.Workspace
	batch             int       // capacity of the buffers, in images
	ping, pong        []float32 // intermediate activations
	z, xhat, zhat     []float32
	largestActivation int // floats per image of the largest intermediate tensor
}

// step is one convolution with what follows it fused in: folded batch norm and the
// activation.
type step struct {
	transposed   bool
	geom         kernel.Geometry // Batch is set per call
	weight       []float32
	weightT      []float32      // transposed convolutions: the weight as the GEMM reads it (kernel.TransposeWeight)
	strips       *kernel.Strips // the GEMM's weight packed once (nil where the build packs none)
	scale, shift []float32      // nil when no batch norm follows
	act          kernel.Activation
	inSize       int
	outSize      int
}

func (s step) outLen() int { return s.geom.OutC * s.outSize * s.outSize }

// NewGenerator builds a generator for cfg from named tensors (see
// [GeneratorArch.Params]); each must be present with the right number of values.
func NewGenerator(cfg Config, tensors map[string][]float32) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	arch := cfg.Generator()
	g := &Generator{cfg: cfg}
	var err error
	if g.encoder1, err = compile(arch.Encoder1, cfg.ImageSize, tensors); err != nil {
		return nil, err
	}
	if g.decoder, err = compile(arch.Decoder, 1, tensors); err != nil {
		return nil, err
	}
	if g.encoder2, err = compile(arch.Encoder2, cfg.ImageSize, tensors); err != nil {
		return nil, err
	}
	for _, steps := range [][]step{g.encoder1, g.decoder, g.encoder2} {
		for _, s := range steps {
			g.largestActivation = max(g.largestActivation, s.outLen())
		}
	}
	return g, nil
}

// compile turns a chain of modules into fused steps, looking up each weight by name.
func compile(seq Sequential, inSize int, tensors map[string][]float32) ([]step, error) {
	get := func(p Param) ([]float32, error) {
		v, ok := tensors[p.Name]
		if !ok {
			return nil, fmt.Errorf("missing tensor %q", p.Name)
		}
		if want := shapeLen(p.Shape); len(v) != want {
			return nil, fmt.Errorf("tensor %q has %d values, want %d for shape %v", p.Name, len(v), want, p.Shape)
		}
		return v, nil
	}
	var steps []step
	size := inSize
	for i := 0; i < len(seq); i++ {
		m := seq[i]
		if m.Op != OpConv && m.Op != OpConvTranspose {
			return nil, fmt.Errorf("module %q (%v) does not follow a convolution", m.Path, m.Op)
		}
		w, err := get(m.Params()[0])
		if err != nil {
			return nil, err
		}
		s := step{
			transposed: m.Op == OpConvTranspose,
			geom: kernel.Geometry{InC: m.In, InH: size, InW: size,
				OutC: m.Out, Kernel: m.Kernel, Stride: m.Stride, Pad: m.Pad},
			weight:  w,
			act:     kernel.Identity,
			inSize:  size,
			outSize: m.OutSize(size),
		}
		if s.transposed {
			// Once here rather than packed at every call.
			s.weightT = make([]float32, len(w))
			kernel.TransposeWeight(s.weightT, w, s.geom)
			s.strips = kernel.PackConvTranspose2DWeight(s.weightT, s.geom)
		} else {
			s.strips = kernel.PackConv2DWeight(w, s.geom)
		}
		if i+1 < len(seq) && seq[i+1].Op == OpBatchNorm {
			i++
			bn := seq[i]
			var v [4][]float32
			for j, p := range bn.Params() {
				if v[j], err = get(p); err != nil {
					return nil, err
				}
			}
			s.scale, s.shift = make([]float32, bn.Out), make([]float32, bn.Out)
			kernel.FoldBatchNorm(s.scale, s.shift, v[0], v[1], v[2], v[3], BatchNormEps)
		}
		if i+1 < len(seq) {
			if act, ok := activationOf(seq[i+1].Op); ok {
				i++
				s.act = act
			}
		}
		steps = append(steps, s)
		size = s.outSize
	}
	return steps, nil
}

func activationOf(op Op) (kernel.Activation, bool) {
	switch op {
	case OpLeakyReLU:
		return kernel.LeakyReLU, true
	case OpReLU:
		return kernel.ReLU, true
	case OpTanh:
		return kernel.Tanh, true
	case OpSigmoid:
		return kernel.Sigmoid, true
	}
	return kernel.Identity, false
}

func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Config returns the generator's configuration.
func (g *Generator) Config() Config { return g.cfg }

// Forward runs n images (NCHW, each [Config.InputLen] floats in [−1, 1]) through the
// generator and returns the latent codes z = G_E(x) (n×nz), the reconstructions
// x̂ = G_D(z) (n×C×H×W) and ẑ = E(x̂) (n×nz). The returned slices are the generator's
// own buffers: valid until the next call, so copy what must outlive it. After the first
// call with the largest n, calls do not allocate.
func (g *Generator) Forward(x []float32, n int) (z, xhat, zhat []float32) {
	if n < 1 || len(x) < n*g.cfg.InputLen() {
		panic(fmt.Sprintf("model: Forward of %d images needs %d floats, got %d", n, n*g.cfg.InputLen(), len(x)))
	}
	g.reserve(n)
	nz := g.cfg.Latent
	z, xhat, zhat = g.z[:n*nz], g.xhat[:n*g.cfg.InputLen()], g.zhat[:n*nz]
	g.run(g.encoder1, x[:n*g.cfg.InputLen()], z, n)
	g.run(g.decoder, z, xhat, n)
	g.run(g.encoder2, xhat, zhat, n)
	return z, xhat, zhat
}

func (g *Generator) reserve(n int) {
	if n <= g.batch {
		return
	}
	g.batch = n
	g.ping = make([]float32, n*g.largestActivation)
	g.pong = make([]float32, n*g.largestActivation)
	g.z = make([]float32, n*g.cfg.Latent)
	g.zhat = make([]float32, n*g.cfg.Latent)
	g.xhat = make([]float32, n*g.cfg.InputLen())
}

// run applies steps to src, alternating between the two scratch buffers, and writes
// the last step's output into dst.
func (g *Generator) run(steps []step, src, dst []float32, n int) {
	in := src
	for i, s := range steps {
		out := g.ping
		if i%2 == 1 {
			out = g.pong
		}
		if i == len(steps)-1 {
			out = dst
		}
		out = out[:n*s.outLen()]
		geom := s.geom
		geom.Batch = n
		if s.transposed {
			kernel.ConvTranspose2DT(out, in, s.weight, s.weightT, s.strips, geom, &g.ws)
		} else {
			kernel.Conv2DPacked(out, in, s.weight, s.strips, geom, &g.ws)
		}
		spatial := s.outSize * s.outSize
		switch {
		case s.scale != nil:
			kernel.ScaleShiftActivate(out, n, geom.OutC, spatial, s.scale, s.shift, s.act)
		case s.act != kernel.Identity:
			kernel.Activate(out, s.act)
		}
		in = out
	}
}

// FLOPs is the number of floating-point operations of one image's forward pass through
// the generator (a multiply-add counts as two).
func (c Config) FLOPs() int64 {
	var total int64
	arch := c.Generator()
	for _, seq := range []struct {
		s    Sequential
		size int
	}{{arch.Encoder1, c.ImageSize}, {arch.Decoder, 1}, {arch.Encoder2, c.ImageSize}} {
		size := seq.size
		for _, m := range seq.s {
			out := m.OutSize(size)
			switch m.Op {
			case OpConv:
				total += 2 * int64(m.Out*m.In*m.Kernel*m.Kernel) * int64(out*out)
			case OpConvTranspose:
				total += 2 * int64(m.Out*m.In*m.Kernel*m.Kernel) * int64(size*size)
			}
			size = out
		}
	}
	return total
}
