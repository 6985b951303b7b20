package kernel

import "math"

// BatchStats are the per-channel statistics of one training-mode batch norm: the
// batch's mean, its biased variance (the one it normalises by) and 1/√(var+eps).
// The backward pass needs Mean and InvStd; the running statistics need Mean and
// Var (PyTorch updates running_var with the unbiased variance, Var·M/(M−1)).
type BatchStats struct {
	Mean, Var, InvStd []float32
}

// NewBatchStats returns statistics for channels channels.
func NewBatchStats(channels int) BatchStats {
	b := make([]float32, 3*channels)
	return BatchStats{Mean: b[:channels:channels], Var: b[channels : 2*channels : 2*channels], InvStd: b[2*channels:]}
}

// BatchNormTrain is batch normalisation in training mode (PyTorch's BatchNorm2d
// after .train()): each channel is normalised by the mean and biased variance of
// its own M = batch·spatial values,
//
//	y = (x − mean[c]) · invStd[c] · weight[c] + bias[c],  invStd = 1/√(var + eps)
//
// x and y are [batch, channels, spatial] and may be the same slice. The
// statistics are summed in float64 and written to st for the backward pass.
func BatchNormTrain(y, x []float32, batch, channels, spatial int, weight, bias []float32, st BatchStats, eps float32) {
	checkPerChannel(x, batch, channels, spatial)
	checkPerChannel(y, batch, channels, spatial)
	if len(weight) < channels || len(bias) < channels || len(st.Mean) < channels || len(st.Var) < channels || len(st.InvStd) < channels {
		panic(shortParam)
	}
	m := float64(batch * spatial)
	for c := range channels {
		var s float64
		for n := range batch {
			for _, v := range x[(n*channels+c)*spatial : (n*channels+c+1)*spatial] {
				s += float64(v)
			}
		}
		mean := s / m
		var ss float64
		for n := range batch {
			for _, v := range x[(n*channels+c)*spatial : (n*channels+c+1)*spatial] {
				d := float64(v) - mean
				ss += d * d
			}
		}
		variance := ss / m
		inv := 1 / math.Sqrt(variance+float64(eps))
		st.Mean[c], st.Var[c], st.InvStd[c] = float32(mean), float32(variance), float32(inv)
		scale := float32(inv * float64(weight[c]))
		shift := float32(float64(bias[c]) - mean*inv*float64(weight[c]))
		for n := range batch {
			src := x[(n*channels+c)*spatial : (n*channels+c+1)*spatial]
			dst := y[(n*channels+c)*spatial : (n*channels+c+1)*spatial]
			for i, v := range src {
				dst[i] = v*scale + shift
			}
		}
	}
}

// BatchNormBackward is the backward pass of BatchNormTrain. From dy = ∂L/∂y, the
// input x and the statistics st it computes, per channel, with x̂ = (x − mean)·invStd:
//
//	dbias[c]   = Σ dy
//	dweight[c] = Σ dy·x̂
//	dx         = weight[c]·invStd[c] · (dy − dbias[c]/M − x̂·dweight[c]/M)
//
// dweight and dbias are overwritten, or added to when accumulate is true. dx may
// be dy (in place). dweight and dbias may be nil when only dx is wanted.
func BatchNormBackward(dx, dweight, dbias, dy, x []float32, batch, channels, spatial int, weight []float32, st BatchStats, accumulate bool) {
	checkPerChannel(x, batch, channels, spatial)
	checkPerChannel(dy, batch, channels, spatial)
	checkPerChannel(dx, batch, channels, spatial)
	if len(weight) < channels || len(st.Mean) < channels || len(st.InvStd) < channels ||
		dweight != nil && len(dweight) < channels || dbias != nil && len(dbias) < channels {
		panic(shortParam)
	}
	m := float64(batch * spatial)
	for c := range channels {
		mean, inv := float64(st.Mean[c]), float64(st.InvStd[c])
		var sdy, sdyx float64
		for n := range batch {
			g := dy[(n*channels+c)*spatial : (n*channels+c+1)*spatial]
			xs := x[(n*channels+c)*spatial : (n*channels+c+1)*spatial]
			xs = xs[:len(g)]
			for i, d := range g {
				sdy += float64(d)
				sdyx += float64(d) * (float64(xs[i]) - mean)
			}
		}
		sdyx *= inv // Σ dy·x̂
		if dweight != nil {
			if accumulate {
				dweight[c] += float32(sdyx)
				dbias[c] += float32(sdy)
			} else {
				dweight[c], dbias[c] = float32(sdyx), float32(sdy)
			}
		}
		// dx = a·dy + b·(x − mean) + k with a = w·inv, b = −w·inv²·Σdy·x̂/M, k = −w·inv·Σdy/M.
		a := float64(weight[c]) * inv
		b := -a * inv * sdyx / m
		k := -a * sdy / m
		fa, fb, fk, fm := float32(a), float32(b), float32(k), st.Mean[c]
		for n := range batch {
			g := dy[(n*channels+c)*spatial : (n*channels+c+1)*spatial]
			xs := x[(n*channels+c)*spatial : (n*channels+c+1)*spatial]
			out := dx[(n*channels+c)*spatial : (n*channels+c+1)*spatial]
			xs, out = xs[:len(g)], out[:len(g)]
			for i, d := range g {
				out[i] = fa*d + fb*(xs[i]-fm) + fk
			}
		}
	}
}

// ActivateBackward computes dx = dy · act'(x) in terms of the activation's output
// y = act(x), so that the forward pass may run in place:
//
//	ReLU: dy where y > 0, else 0      LeakyReLU: dy where y > 0, else LeakySlope·dy
//	Tanh: dy·(1 − y²)                 Sigmoid:   dy·y·(1 − y)
//
// (at x = 0 the ReLUs take PyTorch's one-sided derivative: 0 and LeakySlope). dx may
// be dy.
func ActivateBackward(dx, dy, y []float32, act Activation) {
	if len(dy) < len(dx) || len(y) < len(dx) {
		panic(shortX)
	}
	dy, y = dy[:len(dx)], y[:len(dx)]
	switch act {
	case Identity:
		copy(dx, dy)
	case ReLU: // branch-free, as in Activate
		for i, v := range y {
			dx[i] = math.Float32frombits(math.Float32bits(dy[i]) &^ notPositive(math.Float32bits(v)))
		}
	case LeakyReLU:
		for i, v := range y {
			m := notPositive(math.Float32bits(v))
			dx[i] = dy[i] * math.Float32frombits(oneBits^(oneBits^slopeBits)&m)
		}
	case Tanh:
		for i, v := range y {
			dx[i] = dy[i] * (1 - v*v)
		}
	case Sigmoid:
		for i, v := range y {
			dx[i] = dy[i] * v * (1 - v)
		}
	default:
		panic(badActivation)
	}
}
