package model

import "math/rand/v2"

// InitTensors returns fresh tensors for params, initialised as the official
// weights_init does (DCGAN: conv weights ~ N(0, 0.02), BN weights ~ N(1, 0.02), BN bias
// 0) with running statistics at PyTorch's start (mean 0, variance 1). The trainer
// initialises in libtorch; this is for tests and for tools that need a model without
// training one.
func InitTensors(params []Param, rng *rand.Rand) map[string][]float32 {
	out := make(map[string][]float32, len(params))
	for _, p := range params {
		v := make([]float32, shapeLen(p.Shape))
		switch p.Init {
		case "normal(0,0.02)":
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 0.02)
			}
		case "normal(1,0.02)":
			for i := range v {
				v[i] = float32(1 + rng.NormFloat64()*0.02)
			}
		case "ones":
			for i := range v {
				v[i] = 1
			}
		case "zeros":
		default:
			panic("model: unknown init " + p.Init + " for " + p.Name)
		}
		out[p.Name] = v
	}
	return out
}
