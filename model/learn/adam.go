package learn

import "math"

// adamEps is torch.optim.Adam's default epsilon, which the official code uses.
const adamEps = 1e-8

// adam is torch.optim.Adam without weight decay or AMSGrad, over one flat slice of
// parameters, in PyTorch's order of float32 operations:
//
//	m ← β1·m + (1−β1)·g
//	v ← β2·v + (1−β2)·g²
//	p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)
type adam struct {
	lr, beta1, beta2 float64
	m, v             []float32
	step             int
}

func newAdam(n int, lr, beta1, beta2 float64) *adam {
	return &adam{lr: lr, beta1: beta1, beta2: beta2, m: make([]float32, n), v: make([]float32, n)}
}

// update takes one step of params along grads.
func (a *adam) update(params, grads []float32) {
	a.step++
	t := float64(a.step)
	stepSize := float32(a.lr / (1 - math.Pow(a.beta1, t)))
	sqrtBC2 := float32(math.Sqrt(1 - math.Pow(a.beta2, t)))
	b1, c1 := float32(a.beta1), float32(1-a.beta1)
	b2, c2 := float32(a.beta2), float32(1-a.beta2)
	m, v := a.m[:len(params)], a.v[:len(params)]
	grads = grads[:len(params)]
	for i, g := range grads {
		mi := b1*m[i] + c1*g
		vi := b2*v[i] + c2*g*g
		m[i], v[i] = mi, vi
		denom := float32(math.Sqrt(float64(vi)))/sqrtBC2 + adamEps
		params[i] -= stepSize * (mi / denom)
	}
}
