//go:build goexperiment.simd && !amd64

package kernel

// zeroUpper is a no-op: only amd64 mixes legacy SSE with wider vector registers.
func zeroUpper() {}
