package torch

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// TestWorkerOneThread hands jobs to one worker from many goroutines, with
// other goroutines busy meanwhile, and checks that every job ran on the same
// OS thread.
func TestWorkerOneThread(t *testing.T) {
	w := NewWorker()
	defer w.Close()

	var mu sync.Mutex
	tids := map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := w.Do(func() error {
					runtime.Gosched() // invite the scheduler to move us
					mu.Lock()
					tids[syscall.Gettid()]++
					mu.Unlock()
					return nil
				}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if len(tids) != 1 {
		t.Fatalf("jobs ran on %d threads, want 1: %v", len(tids), tids)
	}
}

// TestWorkerKeepsGradMode turns grad mode off in one job and checks that
// later jobs, handed over from other goroutines, still see it off: libtorch
// keeps grad mode per OS thread.
func TestWorkerKeepsGradMode(t *testing.T) {
	w := NewWorker()
	defer w.Close()

	if err := w.Do(func() error {
		_, err := ts.GradSetEnabled(false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				err := w.Do(func() error {
					x, err := ts.Ones([]int64{3}, gotch.Float, gotch.CPU)
					if err != nil {
						return err
					}
					if x, err = x.SetRequiresGrad(true, true); err != nil {
						return err
					}
					y, err := x.MulScalar(ts.FloatScalar(2), false)
					if err != nil {
						return err
					}
					// With grad mode off, results of ops do not require grad.
					if y.MustRequiresGrad() {
						return errors.New("grad mode is on again: the job ran on another thread")
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// This worker's thread ends with it; still, leave grad mode as found.
	if err := w.Do(func() error { _, err := ts.GradSetEnabled(true); return err }); err != nil {
		t.Fatal(err)
	}
}

func TestWorkerPanicIsError(t *testing.T) {
	w := NewWorker()
	defer w.Close()
	err := w.Do(func() error {
		var x *ts.Tensor
		_, err := x.MulScalar(ts.FloatScalar(2), false) // nil tensor
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("got %v, want a panic turned into an error", err)
	}
	if err := w.Do(func() error { return nil }); err != nil {
		t.Fatalf("worker unusable after a panic: %v", err)
	}
}

func TestWorkerClose(t *testing.T) {
	w := NewWorker()
	want := errors.New("job error")
	if err := w.Do(func() error { return want }); err != want {
		t.Fatalf("Do returned %v, want the job's error", err)
	}
	w.Close()
	w.Close() // a second Close is harmless
	if err := w.Do(func() error { return nil }); err != ErrClosed {
		t.Fatalf("Do after Close returned %v, want ErrClosed", err)
	}
}

// TestWorkerUsesEveryCore checks that the worker's jobs run libtorch on more than one
// thread where Go has more than one CPU (libtorch's own default was 1 on a 2-vCPU
// machine) and on no more threads than Go's CPUs, unless the environment sets them.
func TestWorkerUsesEveryCore(t *testing.T) {
	for _, env := range []string{"OMP_NUM_THREADS", "MKL_NUM_THREADS"} {
		if _, ok := os.LookupEnv(env); ok {
			t.Skipf("%s is set", env)
		}
	}
	w := NewWorker()
	defer w.Close()
	cpus := runtime.GOMAXPROCS(0)
	got := w.Threads()
	if got < min(2, cpus) || got > cpus {
		t.Errorf("Threads() = %d with GOMAXPROCS %d, want 2 to %d", got, cpus, cpus)
	}
	var inJob int
	if err := w.Do(func() error { inJob = intraOpThreads(); return nil }); err != nil {
		t.Fatal(err)
	}
	if inJob != got {
		t.Errorf("a job's libtorch ops use %d threads, Threads() says %d", inJob, got)
	}
}
