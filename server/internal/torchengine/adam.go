package torchengine

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch/ts"
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
// can hold it.
type adam struct {
	lr, beta1, beta2 float64
	params           []*param
	m, v             []*ts.Tensor
	step             int
}

func newAdam(params []*param, lr, beta1, beta2 float64) (a *adam, err error) {
	defer catch(&err)
	a = &adam{lr: lr, beta1: beta1, beta2: beta2, params: params}
	noGrad(func() {
		for _, p := range params {
			a.m = append(a.m, must(p.v.ZerosLike(false)))
			a.v = append(a.v, must(p.v.ZerosLike(false)))
		}
	})
	return a, nil
}

// zeroGrad zeroes the gradients of the parameters (optimizer.zero_grad()).
func (a *adam) zeroGrad(sc *scope) {
	for _, p := range a.params {
		g := sc.t(p.v.Grad(false))
		if g.MustDefined() {
			inPlace(g, g.Zero_)
		}
	}
}

// update takes one Adam step with the gradients the last backward pass left.
func (a *adam) update(sc *scope) {
	a.step++
	t := float64(a.step)
	stepSize := a.lr / (1 - math.Pow(a.beta1, t))
	sqrtBC2 := math.Sqrt(1 - math.Pow(a.beta2, t))
	noGrad(func() {
		for i, p := range a.params {
			g := sc.t(p.v.Grad(false))
			if !g.MustDefined() {
				continue // no gradient reached it: PyTorch skips such a parameter too
			}
			m, v := a.m[i], a.v[i]
			// Temporaries are made out of place; only the state and the parameter
			// are updated in place (see inPlace).
			inPlace(m, func() error { return m.Lerp_(g, ts.FloatScalar(1-a.beta1)) })
			g2 := sc.t(sc.t(g.Mul(g, false)).MulScalar(ts.FloatScalar(1-a.beta2), false))
			inPlace(v, func() error { return v.MulScalar_(ts.FloatScalar(a.beta2)) })
			inPlace(v, func() error { return v.Add_(g2) })
			denom := sc.t(sc.t(sc.t(v.Sqrt(false)).DivScalar(ts.FloatScalar(sqrtBC2), false)).AddScalar(ts.FloatScalar(adamEps), false))
			upd := sc.t(sc.t(m.Div(denom, false)).MulScalar(ts.FloatScalar(stepSize), false))
			inPlace(p.v, func() error { return p.v.Sub_(upd) })
		}
	})
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
