package torchengine

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/server/internal/torch"
)

// param is one named tensor of a network: a trainable parameter or a batch-norm
// running statistic.
type param struct {
	model.Param
	v *ts.Tensor // the VarStore variable
}

// layer is one module of the layer list with its variables.
type layer struct {
	mod          model.Module
	weight, bias *ts.Tensor // bias: batch norm only (the convolutions have none)
	mean, vari   *ts.Tensor // batch-norm running statistics
}

// net is a chain of modules from model's layer list, built in a VarStore.
type net struct {
	vs     *nn.VarStore
	device gotch.Device
	seqs   [][]layer
	params []*param   // every tensor, in the order of model's Params
	none   *ts.Tensor // an undefined tensor: "no bias"
}

// generator is G = encoder1 → decoder → encoder2; discriminator is features →
// classifier. Both are nets whose seqs follow those of model's architecture.
type (
	generator     struct{ *net }
	discriminator struct{ *net }
)

// newGenerator builds G for cfg on device with the given tensors (every parameter
// and buffer of cfg.Generator(), by name).
func newGenerator(cfg model.Config, device gotch.Device, values map[string][]float32) (generator, error) {
	a := cfg.Generator()
	n, err := newNet(device, values, a.Encoder1, a.Decoder, a.Encoder2)
	return generator{n}, err
}

// newDiscriminator builds D for cfg on device with the given tensors.
func newDiscriminator(cfg model.Config, device gotch.Device, values map[string][]float32) (discriminator, error) {
	a := cfg.Discriminator()
	n, err := newNet(device, values, a.Features, a.Classifier)
	return discriminator{n}, err
}

func newNet(device gotch.Device, values map[string][]float32, seqs ...model.Sequential) (n *net, err error) {
	defer catch(&err)
	n = &net{vs: nn.NewVarStore(device), device: device, none: ts.NewTensor()}
	var sc scope
	defer sc.drop()
	for _, seq := range seqs {
		var layers []layer
		for _, m := range seq {
			l := layer{mod: m}
			path := n.vs.Root()
			for _, part := range strings.Split(m.Path, ".") {
				path = path.Sub(part)
			}
			for _, p := range m.Params() {
				v, ok := values[p.Name]
				if !ok {
					return nil, fmt.Errorf("train: no value for tensor %q", p.Name)
				}
				if len(v) != shapeLen(p.Shape) {
					return nil, fmt.Errorf("train: tensor %q has %d values, want shape %v", p.Name, len(v), p.Shape)
				}
				t := fromSlice(&sc, v, int64s(p.Shape), device)
				variable := must(path.Add(p.Role, t, !p.Buffer))
				n.params = append(n.params, &param{Param: p, v: variable})
				switch p.Role {
				case model.RoleWeight:
					l.weight = variable
				case model.RoleBias:
					l.bias = variable
				case model.RoleRunningMean:
					l.mean = variable
				case model.RoleRunningVar:
					l.vari = variable
				}
			}
			layers = append(layers, l)
		}
		n.seqs = append(n.seqs, layers)
	}
	// The VarStore's names must be the official ones, exactly: gotch renames a
	// duplicate silently ("name__3"), which would break the export by name.
	got := slices.Sorted(maps.Keys(n.vs.Variables()))
	want := make([]string, len(n.params))
	for i, p := range n.params {
		want[i] = p.Name
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return nil, fmt.Errorf("train: VarStore names %v differ from the layer list's %v", got, want)
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

// trainable lists the parameters Adam updates, in a fixed order.
func (n *net) trainable() []*param {
	var ps []*param
	for _, p := range n.params {
		if !p.Buffer {
			ps = append(ps, p)
		}
	}
	return ps
}

// snapshot copies every tensor of the network to Go, by name.
func (n *net) snapshot() (out map[string][]float32, err error) {
	defer catch(&err)
	var sc scope
	defer sc.drop()
	out = make(map[string][]float32, len(n.params))
	for _, p := range n.params {
		out[p.Name] = values(&sc, p.v)
	}
	return out, nil
}

// load overwrites the network's tensors with values, which must hold every one of
// them with its shape.
func (n *net) load(values map[string][]float32) (err error) {
	defer catch(&err)
	var sc scope
	defer sc.drop()
	for _, p := range n.params {
		v, ok := values[p.Name]
		if !ok {
			return fmt.Errorf("train: no value for tensor %q", p.Name)
		}
		if len(v) != shapeLen(p.Shape) {
			return fmt.Errorf("train: tensor %q has %d values, want shape %v", p.Name, len(v), p.Shape)
		}
		assign(&sc, p.v, v)
	}
	return nil
}

// reinit overwrites the learnt weights (not the running statistics) with a fresh
// DCGAN initialisation, as the official reinit_d applies weights_init.
func (n *net) reinit(fresh map[string][]float32) (err error) {
	defer catch(&err)
	var sc scope
	defer sc.drop()
	for _, p := range n.params {
		if !p.Buffer {
			assign(&sc, p.v, fresh[p.Name])
		}
	}
	return nil
}

// forward applies one chain of layers. train selects batch norm's mode: batch
// statistics (and running statistics updated) or running statistics.
func (n *net) forward(sc *scope, seq []layer, x *ts.Tensor, train bool) *ts.Tensor {
	for _, l := range seq {
		m := l.mod
		stride, pad := []int64{int64(m.Stride), int64(m.Stride)}, []int64{int64(m.Pad), int64(m.Pad)}
		switch m.Op {
		case model.OpConv:
			x = sc.t(ts.Conv2d(x, l.weight, n.none, stride, pad, []int64{1, 1}, 1))
		case model.OpConvTranspose:
			// The weight is [in, out, k, k], libtorch's layout (gotch's
			// nn.NewConvTranspose2D gets it wrong; see server/internal/torch).
			x = sc.t(ts.ConvTranspose2d(x, l.weight, n.none, stride, pad, []int64{0, 0}, 1, []int64{1, 1}))
		case model.OpBatchNorm:
			x = sc.t(ts.BatchNorm(x, l.weight, l.bias, l.mean, l.vari, train, 0.1, model.BatchNormEps, true))
		case model.OpLeakyReLU:
			x = sc.t(torch.LeakyReLU(x, model.LeakySlope))
		case model.OpReLU:
			x = sc.t(x.Relu(false))
		case model.OpTanh:
			x = sc.t(x.Tanh(false))
		case model.OpSigmoid:
			x = sc.t(x.Sigmoid(false))
		default:
			panic(fmt.Sprintf("train: module %q has unknown op %v", m.Path, m.Op))
		}
	}
	return x
}

// forward runs G: z = encoder1(x), x̂ = decoder(z), ẑ = encoder2(x̂).
func (g generator) forward(sc *scope, x *ts.Tensor, train bool) (z, xhat, zhat *ts.Tensor) {
	z = g.net.forward(sc, g.seqs[0], x, train)
	xhat = g.net.forward(sc, g.seqs[1], z, train)
	zhat = g.net.forward(sc, g.seqs[2], xhat, train)
	return z, xhat, zhat
}

// forward runs D in train mode (the official code never puts D in eval mode) and
// returns its probability of "real" and its features.
func (d discriminator) forward(sc *scope, x *ts.Tensor) (pred, features *ts.Tensor) {
	features = d.net.forward(sc, d.seqs[0], x, true)
	pred = d.net.forward(sc, d.seqs[1], features, true)
	return pred, features
}
