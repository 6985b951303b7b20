//go:build !wasm

package kernel

import (
	"runtime"
	"sync"
)

// Native builds split a large GEMM across goroutines, up to GOMAXPROCS of them.
// The goroutines are a small pool started on first use and kept, so a parallel
// call hands out its parts over a channel and allocates nothing.

// maxParts is the most parts a job may be split into.
func maxParts() int { return runtime.GOMAXPROCS(0) }

type work struct {
	job  *gemmJob
	part int
}

var pool struct {
	mu      sync.Mutex
	started int
	queue   chan work
}

// startWorkers makes sure at least n pool goroutines are running.
func startWorkers(n int) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.queue == nil {
		pool.queue = make(chan work, 64)
	}
	for ; pool.started < n; pool.started++ {
		go func() {
			for w := range pool.queue {
				w.job.run(w.part)
				w.job.wg.Done()
			}
		}()
	}
}

// runParts runs every part of j and returns when all are done. The caller's
// goroutine computes part 0 itself.
func (j *gemmJob) runParts() {
	if j.parts <= 1 {
		j.run(0)
		return
	}
	startWorkers(j.parts - 1)
	j.wg.Add(j.parts - 1)
	for p := 1; p < j.parts; p++ {
		pool.queue <- work{j, p}
	}
	j.run(0)
	j.wg.Wait()
}
