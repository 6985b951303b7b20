package pca

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Basis is the result of [Fit].
type Basis struct {
	// Mean is the mean vector, of length d.
	Mean []float64
	// Components are unit vectors of length d, orthogonal, ordered by decreasing
	// variance; the sign of each is fixed so that its largest entry (in magnitude)
	// is positive, which makes the map reproducible.
	Components [][]float64
	// Variances are the variances along Components (the covariance's eigenvalues),
	// Total the sum over all d directions (its trace).
	Variances []float64
	Total     float64
}

// Fit returns the k leading principal components of n vectors of length d stored
// one after the other in x. The covariance divides by n−1. It panics on inconsistent
// sizes; n must be at least 2.
func Fit(x []float32, n, d, k int) Basis {
	if n < 2 || d < 1 || k < 1 || k > d || len(x) != n*d {
		panic(fmt.Sprintf("pca: Fit of %d vectors of length %d (k %d) over %d values", n, d, k, len(x)))
	}
	mean := make([]float64, d)
	for i := range n {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	// Covariance, upper triangle accumulated then mirrored: d² per vector, which for
	// d = 100 and 20 000 test codes is 2·10⁸ multiply-adds, a fraction of a second.
	cov := make([]float64, d*d)
	centred := make([]float64, d)
	for i := range n {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			centred[j] = float64(v) - mean[j]
		}
		for a := range d {
			ca := centred[a]
			covRow := cov[a*d : (a+1)*d]
			for b := a; b < d; b++ {
				covRow[b] += ca * centred[b]
			}
		}
	}
	for a := range d {
		for b := a; b < d; b++ {
			v := cov[a*d+b] / float64(n-1)
			cov[a*d+b], cov[b*d+a] = v, v
		}
	}
	values, vectors := Eigen(cov, d)
	out := Basis{Mean: mean}
	for _, v := range values {
		out.Total += v
	}
	for c := range k {
		out.Components = append(out.Components, vectors[c])
		out.Variances = append(out.Variances, values[c])
	}
	return out
}

// Eigen decomposes the symmetric d×d matrix a (row-major; only read) by cyclic Jacobi
// rotations, and returns its eigenvalues in decreasing order with unit eigenvectors
// (each with its largest entry positive). Jacobi is slower than QR-based methods but
// short, unconditionally stable and accurate for small symmetric matrices.
func Eigen(a []float64, d int) (values []float64, vectors [][]float64) {
	if d < 1 || len(a) != d*d {
		panic(fmt.Sprintf("pca: Eigen of a %d×%d matrix over %d values", d, d, len(a)))
	}
	m := slices.Clone(a)
	v := make([]float64, d*d) // columns are the eigenvectors
	for i := range d {
		v[i*d+i] = 1
	}
	for sweep := 0; sweep < 100; sweep++ {
		var off, diag float64
		for p := range d {
			diag += m[p*d+p] * m[p*d+p]
			for q := p + 1; q < d; q++ {
				off += m[p*d+q] * m[p*d+q]
			}
		}
		if off <= 1e-30*diag || off == 0 {
			break
		}
		for p := range d {
			for q := p + 1; q < d; q++ {
				apq := m[p*d+q]
				if apq == 0 {
					continue
				}
				// The rotation that zeroes m[p][q] (Golub and Van Loan, §8.5).
				theta := (m[q*d+q] - m[p*d+p]) / (2 * apq)
				t := 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
				c := 1 / math.Sqrt(t*t+1)
				s := t * c
				for r := range d { // columns p and q
					mrp, mrq := m[r*d+p], m[r*d+q]
					m[r*d+p], m[r*d+q] = c*mrp-s*mrq, s*mrp+c*mrq
				}
				for r := range d { // rows p and q
					mpr, mqr := m[p*d+r], m[q*d+r]
					m[p*d+r], m[q*d+r] = c*mpr-s*mqr, s*mpr+c*mqr
				}
				for r := range d {
					vrp, vrq := v[r*d+p], v[r*d+q]
					v[r*d+p], v[r*d+q] = c*vrp-s*vrq, s*vrp+c*vrq
				}
			}
		}
	}
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(m[j*d+j], m[i*d+i]) })
	for _, i := range order {
		values = append(values, m[i*d+i])
		vec := make([]float64, d)
		big := 0
		for r := range d {
			vec[r] = v[r*d+i]
			if math.Abs(vec[r]) > math.Abs(vec[big]) {
				big = r
			}
		}
		if vec[big] < 0 {
			for r := range vec {
				vec[r] = -vec[r]
			}
		}
		vectors = append(vectors, vec)
	}
	return values, vectors
}

// Project returns the coordinates of v (length d) along the basis's components.
func (b Basis) Project(v []float32) []float64 {
	out := make([]float64, len(b.Components))
	for c, comp := range b.Components {
		var s float64
		for j, m := range b.Mean {
			s += comp[j] * (float64(v[j]) - m)
		}
		out[c] = s
	}
	return out
}
