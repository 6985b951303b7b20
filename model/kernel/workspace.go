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
	job  gemmJob
	pack [][]float32 // one packed-B buffer per parallel part
	ints []int       // the job's per-row and per-column index tables
}

// tables returns count int slices of length n each, carved from one buffer.
func (ws *Workspace) tables(n, count int) []int {
	need := n * count
	if cap(ws.ints) < need {
		ws.ints = make([]int, need)
	}
	return ws.ints[:need]
}

// packBuffers makes sure there are parts buffers of at least size floats and
// returns them.
func (ws *Workspace) packBuffers(parts, size int) [][]float32 {
	for len(ws.pack) < parts {
		ws.pack = append(ws.pack, nil)
	}
	for i := range parts {
		if cap(ws.pack[i]) < size {
			ws.pack[i] = make([]float32, size)
		}
		ws.pack[i] = ws.pack[i][:size]
	}
	return ws.pack[:parts]
}
