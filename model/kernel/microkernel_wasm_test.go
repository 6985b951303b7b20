//go:build goexperiment.simd && wasm

package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestStripKernelMatchesNaive holds the assembly kernel to a plain loop in float64,
// at depths around its two-step unrolling (0 to 5, odd and even, and a long one), with
// and without adding into C, and with C's rows apart by more than a tile.
func TestStripKernelMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, kc := range []int{0, 1, 2, 3, 4, 5, 255, 256} {
		for _, add := range []bool{false, true} {
			a := make([]float32, mr*kc)
			b := make([]float32, nr*kc)
			fillUniform(r, a)
			fillUniform(r, b)
			const ldc = nr + 5
			c := make([]float32, 3*ldc+nr+3) // the last 3 and the 5 between rows must stay
			fillUniform(r, c)
			want := make([]float64, len(c))
			for i, v := range c {
				want[i] = float64(v)
			}
			for row := range mr {
				for col := range nr {
					var s float64
					for p := range kc {
						s += float64(a[p*mr+row]) * float64(b[p*nr+col])
					}
					if add {
						want[row*ldc+col] += s
					} else {
						want[row*ldc+col] = s
					}
				}
			}
			stripKernel(a, b, c, ldc, add)
			for i, v := range c {
				if d := float64(v) - want[i]; d > 1e-4 || d < -1e-4 {
					t.Fatalf("kc %d, add %v: c[%d] = %v, want %v", kc, add, i, v, want[i])
				}
			}
		}
	}
}
