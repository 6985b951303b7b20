package kernel

// Workspace holds scratch memory reused across calls, so that steady-state
// inference does not allocate: after one call with a given geometry, further
// calls with that geometry (or a smaller one) make no allocations.
//
// The zero value is ready to use. A Workspace serves one call at a time: give
// each goroutine that runs kernels its own. It must not be copied after first
// use. Passing a nil *Workspace to a kernel is allowed and allocates scratch
// memory for that call only.
type Workspace struct {
	job   gemmJob
	pack  [][]float32 // one packed-B buffer per parallel part
	packA [][]float32 // one packed-A buffer per parallel part (strips of A)
	ints  []int       // the job's per-row and per-column index tables

	// The output gradient or input of a weight gradient, gathered in rows
	// (backward.go).
	gradA []float32

	// A Conv2D's input split by phase (conv.go, splitPhases).
	phases []float32
}

// intBuf returns n ints of scratch (for a job's index tables).
func (ws *Workspace) intBuf(n int) []int {
	if cap(ws.ints) < n {
		ws.ints = make([]int, n)
	}
	return ws.ints[:n]
}

// grow makes sure *bufs holds parts buffers of at least size floats and returns
// them, each of length size.
func grow(bufs *[][]float32, parts, size int) [][]float32 {
	for len(*bufs) < parts {
		*bufs = append(*bufs, nil)
	}
	b := (*bufs)[:parts]
	for i := range b {
		if cap(b[i]) < size {
			b[i] = make([]float32, size)
		}
		b[i] = b[i][:size]
	}
	return b
}
