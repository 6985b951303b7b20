package learn

import (
	"math"

	"github.com/ganomaly-go/ganomaly-go/model"
)

// Losses are the terms of one training step (model.Losses: the model's schema, which
// every trainer and reader shares).
type Losses = model.Losses

// meanSquare returns mean((a − b)²) and, when grad is not nil, writes scale·∂/∂a
// = scale·2(a − b)/N into it.
func meanSquare(a, b, grad []float32, scale float64) float64 {
	var s float64
	for i, v := range a {
		d := float64(v) - float64(b[i])
		s += d * d
	}
	if grad != nil {
		k := float32(2 * scale / float64(len(a)))
		for i, v := range a {
			grad[i] = k * (v - b[i])
		}
	}
	return s / float64(len(a))
}

// meanAbs returns mean|a − b| (PyTorch's l1_loss) and adds scale·∂/∂a = scale·sign(a
// − b)/N into grad (sign(0) = 0, as PyTorch's).
func meanAbs(a, b, grad []float32, scale float64) float64 {
	var s float64
	k := float32(scale / float64(len(a)))
	for i, v := range a {
		d := v - b[i]
		switch {
		case d > 0:
			s += float64(d)
			grad[i] += k
		case d < 0:
			s -= float64(d)
			grad[i] -= k
		}
	}
	return s / float64(len(a))
}

// bce returns PyTorch's binary_cross_entropy of probabilities p against a constant
// target (0 or 1), mean-reduced, with each log clamped at −100 as PyTorch clamps it,
// and writes scale·∂/∂p into grad with PyTorch's formula (p − t)/max(p(1 − p),
// 1e−12)/N.
func bce(p []float32, target float32, grad []float32, scale float64) float64 {
	var s float64
	n := float64(len(p))
	for i, v := range p {
		pv := float64(v)
		var l float64
		if target == 1 {
			l = max(math.Log(pv), -100)
		} else {
			l = max(math.Log(1-pv), -100)
		}
		s -= l
		grad[i] = float32(scale * (pv - float64(target)) / max(pv*(1-pv), 1e-12) / n)
	}
	return s / n
}
