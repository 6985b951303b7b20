package torch

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("torch: worker closed")

// Worker runs functions one at a time on a single goroutine that is locked to
// its OS thread for its whole life, so every libtorch call it makes sees the
// same thread-local state. Create one per device and hand it all torch work;
// never call gotch from HTTP handlers or other goroutines directly.
//
// A Worker's methods may be called from any goroutine. Do must not be called
// from inside a function that the same Worker is running: it would wait for
// itself forever.
type Worker struct {
	jobs      chan job
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	threads   int // libtorch's intra-op threads for the worker's jobs
}

type job struct {
	fn     func() error
	result chan error
}

// NewWorker starts a worker.
func NewWorker() *Worker {
	w := &Worker{
		jobs: make(chan job),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	started := make(chan int)
	go w.loop(started)
	w.threads = <-started
	return w
}

// loop sends libtorch's thread count on started once its thread is set up, then
// runs jobs until Close.
func (w *Worker) loop(started chan<- int) {
	// Never unlocked: when the goroutine ends, Go ends the thread too, so
	// libtorch state set here never leaks to other goroutines.
	runtime.LockOSThread()
	defer close(w.done)
	started <- useEveryCore()
	for {
		select {
		case j := <-w.jobs:
			j.result <- runJob(j.fn)
		case <-w.quit:
			return
		}
	}
}

// runJob turns a panic into an error, so one bad job (a nil tensor, an index
// out of range) does not take the worker down. It cannot save the process
// from gotch's Must* functions and nn layers' Forward: on a libtorch error
// they call log.Fatal. Prefer the error-returning functions.
func runJob(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("torch: job panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return fn()
}

// Threads is the number of threads libtorch's ops use for the worker's jobs (see
// useEveryCore).
func (w *Worker) Threads() int { return w.threads }

// Do runs fn on the worker's thread, waits for it, and returns its error.
func (w *Worker) Do(fn func() error) error {
	result := make(chan error, 1)
	select {
	case w.jobs <- job{fn: fn, result: result}:
		return <-result
	case <-w.quit:
		return ErrClosed
	}
}

// Close stops the worker after the job in progress, if any, and waits for it.
// Later calls to Do return ErrClosed. Close may be called more than once.
func (w *Worker) Close() {
	w.closeOnce.Do(func() { close(w.quit) })
	<-w.done
}
