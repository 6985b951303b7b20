package learn

import "math"

// Losses are the terms of one training step.
type Losses struct {
	Adv float64 `json:"adv"` // feature matching, mean((f_D(x) − f_D(x̂))²)
	Con float64 `json:"con"` // L1(x̂, x)
	Enc float64 `json:"enc"` // mean((ẑ − z)²)
	G   float64 `json:"g"`   // w_adv·Adv + w_con·Con + w_enc·Enc
	D   float64 `json:"d"`   // 0.5·[BCE(D(x), 1) + BCE(D(x̂), 0)]
}

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
