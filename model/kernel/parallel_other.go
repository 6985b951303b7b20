//go:build !wasm

package kernel

import (
	"runtime"
	"sync"
)

// Native builds split a large GEMM across goroutines, up to GOMAXPROCS of them.
// The goroutines are a pool started on first use and kept for the life of the
// process (one fewer than the largest GOMAXPROCS seen; they sleep on a channel
// between jobs), so a parallel call hands its parts over a channel and allocates
// nothing. The parts then claim the job's chunks in turn (see gemmJob.work).
// Only the runtime may allocate, rarely: a record for a parked goroutine when its
// per-P cache is empty (see TestZeroAllocs).

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
				w.job.work(w.part)
				w.job.wg.Done()
			}
		}()
	}
}

// runParts runs the job on j.parts goroutines, the caller's as part 0, and
// returns when every chunk is done.
func (j *gemmJob) runParts() {
	j.next.Store(0)
	if j.parts <= 1 {
		j.work(0)
		return
	}
	startWorkers(j.parts - 1)
	j.wg.Add(j.parts - 1)
	for p := 1; p < j.parts; p++ {
		pool.queue <- work{j, p}
	}
	j.work(0)
	j.wg.Wait()
}
