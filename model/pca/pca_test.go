package pca

import (
	"math"
	"math/rand/v2"
	"testing"
)

// A 2×2 case by hand: [[2, 1], [1, 2]] has eigenvalues 3 and 1 along (1, 1)/√2 and
// (1, −1)/√2 (sign: largest entry positive; for equal magnitudes the first wins).
func TestEigenByHand(t *testing.T) {
	values, vectors := Eigen([]float64{2, 1, 1, 2}, 2)
	r := 1 / math.Sqrt2
	want := [][]float64{{r, r}, {r, -r}}
	if math.Abs(values[0]-3) > 1e-12 || math.Abs(values[1]-1) > 1e-12 {
		t.Errorf("eigenvalues %v, want [3 1]", values)
	}
	for i := range want {
		for j := range want[i] {
			if math.Abs(vectors[i][j]-want[i][j]) > 1e-12 {
				t.Errorf("eigenvector %d = %v, want %v", i, vectors[i], want[i])
			}
		}
	}
}

// Points on a line y = 2x through (1, 1), with a small orthogonal wobble: the first
// component is (1, 2)/√5 and carries almost all the variance; by hand, the variance
// along it is 5·var(t) for points (1+t, 1+2t).
func TestFitLine(t *testing.T) {
	ts := []float64{-2, -1, 0, 1, 2}
	wobble := []float64{0.1, -0.2, 0, 0.2, -0.1} // mean 0, uncorrelated with ts
	var x []float32
	for i, s := range ts {
		// orthogonal direction (−2, 1)/√5 times the wobble
		x = append(x, float32(1+s-2*wobble[i]/math.Sqrt(5)), float32(1+2*s+wobble[i]/math.Sqrt(5)))
	}
	b := Fit(x, len(ts), 2, 2)
	if math.Abs(b.Mean[0]-1) > 1e-6 || math.Abs(b.Mean[1]-1) > 1e-6 {
		t.Errorf("mean %v, want [1 1]", b.Mean)
	}
	c := b.Components[0]
	if math.Abs(c[0]-1/math.Sqrt(5)) > 1e-5 || math.Abs(c[1]-2/math.Sqrt(5)) > 1e-5 {
		t.Errorf("first component %v, want (1, 2)/√5", c)
	}
	// var(t) with n−1: (4+1+0+1+4)/4 = 2.5, so 12.5 along the line; the wobble's
	// variance is (0.01+0.04+0+0.04+0.01)/4 = 0.025.
	if math.Abs(b.Variances[0]-12.5) > 1e-4 || math.Abs(b.Variances[1]-0.025) > 1e-5 {
		t.Errorf("variances %v, want [12.5 0.025]", b.Variances)
	}
	if math.Abs(b.Total-12.525) > 1e-4 {
		t.Errorf("total variance %v, want 12.525", b.Total)
	}
	p := b.Project([]float32{3, 5}) // t = 2 on the line
	if math.Abs(p[0]-2*math.Sqrt(5)) > 1e-5 || math.Abs(p[1]) > 1e-5 {
		t.Errorf("projection of (3, 5) = %v, want (2√5, 0)", p)
	}
}

// On a random symmetric matrix, A·v = λ·v for every pair and the vectors are
// orthonormal.
func TestEigenRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{1, 3, 10, 40} {
		a := make([]float64, d*d)
		for i := range d {
			for j := i; j < d; j++ {
				v := rng.NormFloat64()
				a[i*d+j], a[j*d+i] = v, v
			}
		}
		values, vectors := Eigen(a, d)
		worst := 0.0
		for k, v := range vectors {
			for i := range d {
				var av float64
				for j := range d {
					av += a[i*d+j] * v[j]
				}
				worst = math.Max(worst, math.Abs(av-values[k]*v[i]))
			}
			for l, w := range vectors {
				var dot float64
				for i := range d {
					dot += v[i] * w[i]
				}
				want := 0.0
				if k == l {
					want = 1
				}
				worst = math.Max(worst, math.Abs(dot-want))
			}
			if k > 0 && values[k] > values[k-1] {
				t.Errorf("d %d: eigenvalues not decreasing: %v", d, values)
			}
		}
		if worst > 1e-9 {
			t.Errorf("d %d: max residual %.3g", d, worst)
		}
	}
}
