package torchengine

import (
	"fmt"

	"github.com/sugarme/gotch/ts"

	"github.com/ganomaly-go/ganomaly-go/server/internal/torch"
)

// adamEps is PyTorch's default epsilon for torch.optim.Adam, which the official code
// uses.
const adamEps = 1e-8

// adam is torch.optim.Adam (no weight decay, no AMSGrad) over libtorch tensors:
//
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)
//
// Its state (m, v, t) lives here, not in gotch's C++ optimizer, so that a checkpoint
// can hold it. The update itself is torch.AdamStep: PyTorch's own operations, in one
// cgo call for the network.
type adam struct {
	lr, beta1, beta2 float64
	params           []*param
	vars             []*ts.Tensor // the params' variables
	m, v             []*ts.Tensor
	step             int
}

func newAdam(params []*param, lr, beta1, beta2 float64) (a *adam, err error) {
	defer catch(&err)
	a = &adam{lr: lr, beta1: beta1, beta2: beta2, params: params}
	noGrad(func() {
		for _, p := range params {
			a.vars = append(a.vars, p.v)
			a.m = append(a.m, must(p.v.ZerosLike(false)))
			a.v = append(a.v, must(p.v.ZerosLike(false)))
		}
	})
	return a, nil
}

// zeroGrad zeroes the gradients of the parameters (optimizer.zero_grad()).
func (a *adam) zeroGrad() { check(torch.ZeroGrads(a.vars)) }

// update takes one Adam step with the gradients the last backward pass left.
func (a *adam) update() {
	check(torch.AdamStep(a.vars, a.m, a.v, a.lr, a.beta1, a.beta2, adamEps, a.step+1))
	a.step++
}

// state copies m and v to Go by parameter name.
func (a *adam) state(sc *scope) (m, v map[string][]float32) {
	m = make(map[string][]float32, len(a.params))
	v = make(map[string][]float32, len(a.params))
	for i, p := range a.params {
		m[p.Name] = values(sc, a.m[i])
		v[p.Name] = values(sc, a.v[i])
	}
	return m, v
}

// restore overwrites the state with a checkpoint's.
func (a *adam) restore(sc *scope, step int, m, v map[string][]float32) error {
	for i, p := range a.params {
		mi, ok1 := m[p.Name]
		vi, ok2 := v[p.Name]
		if !ok1 || !ok2 {
			return fmt.Errorf("Adam state for %q missing", p.Name)
		}
		if len(mi) != shapeLen(p.Shape) || len(vi) != shapeLen(p.Shape) {
			return fmt.Errorf("Adam state for %q has the wrong size", p.Name)
		}
		assign(sc, a.m[i], mi)
		assign(sc, a.v[i], vi)
	}
	a.step = step
	return nil
}
