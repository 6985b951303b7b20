package learn

import (
	"fmt"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/kernel"
)

// bnMomentum is PyTorch's default BatchNorm2d momentum, which the official code uses.
const bnMomentum = 0.1

// net is one network (G or D) as chains of layers over flat storage: the trainable
// values in one slice and their gradients in another (so that Adam is one loop and an
// all-reduce is one message), the running statistics in a third.
type net struct {
	params  []model.Param // every tensor, in the layer list's order
	values  []float32     // trainable tensors, concatenated in params' order
	grads   []float32     // their gradients, likewise
	buffers []float32     // running means and variances, likewise
	chains  [][]layer
	ws      kernel.Workspace
}

// layer is one module of the layer list with views of its tensors.
type layer struct {
	mod             model.Module
	act             kernel.Activation // activation modules
	geom            kernel.Geometry   // convolutions; Batch is set per call
	inSize, outSize int               // spatial sides
	channels        int               // output channels
	weight, bias    []float32         // views into net.values
	gWeight, gBias  []float32         // views into net.grads
	runMean, runVar []float32         // views into net.buffers
}

func (l *layer) outLen() int { return l.channels * l.outSize * l.outSize }

// newNet lays out chains (each starting at the given input side) over flat storage
// filled from tensors, which must hold every tensor of every chain by name.
func newNet(tensors map[string][]float32, sides []int, chains ...model.Sequential) (*net, error) {
	n := &net{}
	var nValues, nBuffers int
	for _, seq := range chains {
		for _, p := range seq.Params() {
			n.params = append(n.params, p)
			if p.Buffer {
				nBuffers += shapeLen(p.Shape)
			} else {
				nValues += shapeLen(p.Shape)
			}
		}
	}
	n.values, n.grads, n.buffers = make([]float32, nValues), make([]float32, nValues), make([]float32, nBuffers)
	var vo, bo int
	for ci, seq := range chains {
		size := sides[ci]
		var ls []layer
		for _, m := range seq {
			l := layer{mod: m, inSize: size, outSize: m.OutSize(size), channels: m.Out}
			switch m.Op {
			case model.OpConv, model.OpConvTranspose:
				l.geom = kernel.Geometry{InC: m.In, InH: size, InW: size, OutC: m.Out, Kernel: m.Kernel, Stride: m.Stride, Pad: m.Pad}
			case model.OpLeakyReLU:
				l.act = kernel.LeakyReLU
			case model.OpReLU:
				l.act = kernel.ReLU
			case model.OpTanh:
				l.act = kernel.Tanh
			case model.OpSigmoid:
				l.act = kernel.Sigmoid
			case model.OpBatchNorm:
			default:
				return nil, fmt.Errorf("learn: module %q has unknown op %v", m.Path, m.Op)
			}
			for _, p := range m.Params() {
				v, ok := tensors[p.Name]
				if !ok {
					return nil, fmt.Errorf("learn: no value for tensor %q", p.Name)
				}
				k := shapeLen(p.Shape)
				if len(v) != k {
					return nil, fmt.Errorf("learn: tensor %q has %d values, want shape %v", p.Name, len(v), p.Shape)
				}
				var dst []float32
				if p.Buffer {
					dst = n.buffers[bo : bo+k : bo+k]
					bo += k
				} else {
					dst = n.values[vo : vo+k : vo+k]
					g := n.grads[vo : vo+k : vo+k]
					vo += k
					if p.Role == model.RoleBias {
						l.gBias = g
					} else {
						l.gWeight = g
					}
				}
				copy(dst, v)
				switch p.Role {
				case model.RoleWeight:
					l.weight = dst
				case model.RoleBias:
					l.bias = dst
				case model.RoleRunningMean:
					l.runMean = dst
				case model.RoleRunningVar:
					l.runVar = dst
				}
			}
			ls = append(ls, l)
			size = l.outSize
		}
		n.chains = append(n.chains, ls)
	}
	return n, nil
}

func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// tensors copies every tensor of the network out, by name.
func (n *net) tensors() map[string][]float32 {
	out := make(map[string][]float32, len(n.params))
	var vo, bo int
	for _, p := range n.params {
		k := shapeLen(p.Shape)
		if p.Buffer {
			out[p.Name] = append([]float32(nil), n.buffers[bo:bo+k]...)
			bo += k
		} else {
			out[p.Name] = append([]float32(nil), n.values[vo:vo+k]...)
			vo += k
		}
	}
	return out
}

// load overwrites the network's tensors, which values must hold by name (buffers
// too unless trainableOnly).
func (n *net) load(values map[string][]float32, trainableOnly bool) error {
	var vo, bo int
	for _, p := range n.params {
		k := shapeLen(p.Shape)
		var dst []float32
		if p.Buffer {
			dst = n.buffers[bo : bo+k]
			bo += k
			if trainableOnly {
				continue
			}
		} else {
			dst = n.values[vo : vo+k]
			vo += k
		}
		v, ok := values[p.Name]
		if !ok {
			return fmt.Errorf("learn: no value for tensor %q", p.Name)
		}
		if len(v) != k {
			return fmt.Errorf("learn: tensor %q has %d values, want shape %v", p.Name, len(v), p.Shape)
		}
		copy(dst, v)
	}
	return nil
}

// flat maps named trainable tensors (Adam moments) to one slice in values' order.
func (n *net) flat(named map[string][]float32) ([]float32, error) {
	out := make([]float32, 0, len(n.values))
	for _, p := range n.params {
		if p.Buffer {
			continue
		}
		v, ok := named[p.Name]
		if !ok {
			return nil, fmt.Errorf("learn: no value for tensor %q", p.Name)
		}
		if len(v) != shapeLen(p.Shape) {
			return nil, fmt.Errorf("learn: tensor %q has %d values, want shape %v", p.Name, len(v), p.Shape)
		}
		out = append(out, v...)
	}
	return out, nil
}

// named splits a slice in values' order into named tensors.
func (n *net) named(flat []float32) map[string][]float32 {
	out := map[string][]float32{}
	o := 0
	for _, p := range n.params {
		if p.Buffer {
			continue
		}
		k := shapeLen(p.Shape)
		out[p.Name] = append([]float32(nil), flat[o:o+k]...)
		o += k
	}
	return out
}

// pass is the tape of one forward pass of one chain: acts[i] is the input of layer i
// and acts[len] the output; grads[i] is ∂L/∂acts[i] once backward has run; stats[i]
// holds the batch statistics of a batch-norm layer i.
type pass struct {
	batch int
	acts  [][]float32
	grads [][]float32
	stats []kernel.BatchStats
	own   [][]float32 // buffers kept between steps, by layer: outputs
	ownG  [][]float32 // and input gradients
}

// forward runs chain c of n on x (batch images) and returns its output, recording
// into p. train selects batch norm's mode: batch statistics, with the running
// statistics updated when update is set, or the running statistics.
func (n *net) forward(c int, p *pass, x []float32, batch int, train, update bool) []float32 {
	ls := n.chains[c]
	if p.acts == nil {
		p.acts = make([][]float32, len(ls)+1)
		p.grads = make([][]float32, len(ls)+1)
		p.stats = make([]kernel.BatchStats, len(ls))
		p.own = make([][]float32, len(ls))
		p.ownG = make([][]float32, len(ls)+1)
		for i := range ls {
			if ls[i].mod.Op == model.OpBatchNorm {
				p.stats[i] = kernel.NewBatchStats(ls[i].channels)
			}
		}
	}
	p.batch = batch
	p.acts[0] = x
	for i := range ls {
		l := &ls[i]
		in := p.acts[i]
		switch l.mod.Op {
		case model.OpConv, model.OpConvTranspose:
			out := ensure(&p.own[i], batch*l.outLen())
			g := l.geom
			g.Batch = batch
			if l.mod.Op == model.OpConv {
				kernel.Conv2D(out, in, l.weight, g, &n.ws)
			} else {
				kernel.ConvTranspose2D(out, in, l.weight, g, &n.ws)
			}
			p.acts[i+1] = out
		case model.OpBatchNorm:
			out := ensure(&p.own[i], batch*l.outLen())
			spatial := l.outSize * l.outSize
			if train {
				kernel.BatchNormTrain(out, in, batch, l.channels, spatial, l.weight, l.bias, p.stats[i], model.BatchNormEps)
				if update {
					l.updateRunning(p.stats[i], batch*spatial)
				}
			} else {
				copy(out, in[:len(out)])
				kernel.BatchNormRef(out, batch, l.channels, spatial, l.weight, l.bias, l.runMean, l.runVar, model.BatchNormEps)
			}
			p.acts[i+1] = out
		default: // activations, in place except on the chain's own input
			if i == 0 {
				out := ensure(&p.own[i], len(in))
				copy(out, in)
				in = out
			}
			kernel.Activate(in, l.act)
			p.acts[i+1] = in
		}
	}
	return p.acts[len(ls)]
}

// updateRunning folds one batch's statistics into the running ones as PyTorch does:
// momentum 0.1, and the unbiased variance (M values) for running_var.
func (l *layer) updateRunning(st kernel.BatchStats, m int) {
	unbias := float32(1)
	if m > 1 {
		unbias = float32(m) / float32(m-1)
	}
	const keep, take = 1 - bnMomentum, bnMomentum
	for c := range l.channels {
		l.runMean[c] = keep*l.runMean[c] + take*st.Mean[c]
		l.runVar[c] = keep*l.runVar[c] + take*st.Var[c]*unbias
	}
}

// outGrad returns the buffer for ∂L/∂(output of layer i−1) of chain c, that is
// grads[i], for the caller to fill before calling backward from i.
func (n *net) outGrad(c int, p *pass, i int) []float32 {
	g := ensure(&p.ownG[i], len(p.acts[i]))
	p.grads[i] = g
	return g
}

// backward propagates grads[from] (filled through outGrad) back through layers
// from−1 … 0 of chain c, adding the weight gradients into n.grads when weights is
// set, and returns ∂L/∂input when needInput is set (else nil).
func (n *net) backward(c int, p *pass, from int, weights, needInput bool) []float32 {
	ls := n.chains[c]
	batch := p.batch
	for i := from - 1; i >= 0; i-- {
		l := &ls[i]
		dy := p.grads[i+1]
		switch l.mod.Op {
		case model.OpConv, model.OpConvTranspose:
			g := l.geom
			g.Batch = batch
			if weights {
				if l.mod.Op == model.OpConv {
					kernel.Conv2DBackwardWeight(l.gWeight, p.acts[i], dy, g, true, &n.ws)
				} else {
					kernel.ConvTranspose2DBackwardWeight(l.gWeight, p.acts[i], dy, g, true, &n.ws)
				}
			}
			if i == 0 && !needInput {
				return nil
			}
			dx := ensure(&p.ownG[i], len(p.acts[i]))
			if l.mod.Op == model.OpConv {
				kernel.Conv2DBackwardData(dx, dy, l.weight, g, &n.ws)
			} else {
				kernel.ConvTranspose2DBackwardData(dx, dy, l.weight, g, &n.ws)
			}
			p.grads[i] = dx
		case model.OpBatchNorm:
			var gw, gb []float32
			if weights {
				gw, gb = l.gWeight, l.gBias
			}
			kernel.BatchNormBackward(dy, gw, gb, dy, p.acts[i], batch, l.channels, l.outSize*l.outSize, l.weight, p.stats[i], true)
			p.grads[i] = dy
		default:
			kernel.ActivateBackward(dy, dy, p.acts[i+1], l.act)
			p.grads[i] = dy
		}
	}
	if !needInput {
		return nil
	}
	return p.grads[0]
}

// ensure returns n floats of *buf, growing it if needed.
func ensure(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}
