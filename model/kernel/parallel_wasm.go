package kernel

// Go's WebAssembly ports (js/wasm, wasip1/wasm) run one thread, so jobs are never
// split: goroutines would only add scheduling overhead. (A page gets parallelism
// from several Web Workers, each running its own wasm instance.)

func maxParts() int { return 1 }

func (j *gemmJob) runParts() {
	j.next.Store(0)
	j.work(0)
}
