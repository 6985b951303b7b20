package kernel

import (
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestZeroAllocs checks that, after a first call with the same geometry, the
// kernels allocate nothing: serially (testing.AllocsPerRun runs at GOMAXPROCS 1)
// and, on native builds, through the goroutine pool at GOMAXPROCS 4 (see below).
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := rand.New(rand.NewPCG(11, 12))
	var calls []func()
	ws := new(Workspace) // one workspace for every shape, as a model would use it
	for _, batch := range []int{1, 4} {
		for _, transposed := range []bool{false, true} {
			op := convOp2D
			if transposed {
				op = convOpT
			}
			for _, c := range ganomalyShapes(batch, transposed) {
				g := c.g
				oh, ow := op.out(g)
				src, w := make([]float32, g.inLen()), make([]float32, g.weightLen())
				dst := make([]float32, g.Batch*g.OutC*oh*ow)
				fillUniform(r, src)
				fillUniform(r, w)
				calls = append(calls, func() { op.fast(dst, src, w, g, ws) })
			}
		}
	}
	a, b, c := make([]float32, 300*300), make([]float32, 300*300), make([]float32, 300*300)
	calls = append(calls,
		func() { Gemm(NoTrans, Trans, 300, 300, 300, a, 300, b, 300, true, c, 300, ws) },
		func() { Gemm(Trans, NoTrans, 300, 1, 300, a, 300, b, 1, false, c, 1, ws) },
		func() { ScaleShiftActivate(a, 2, 30, 1500, b, c, LeakyReLU) },
		func() { Activate(a, Tanh) },
		func() { FoldBatchNorm(a[:300], b[:300], c[:300], c[:300], c[:300], a[300:600], 1e-5) },
	)
	for _, f := range calls {
		f() // warm-up: size the workspace
	}
	for i, f := range calls {
		if n := testing.AllocsPerRun(3, f); n != 0 {
			t.Errorf("call %d: %v allocations per run at GOMAXPROCS 1", i, n)
		}
	}
	// On the parallel path the package's code allocates nothing either, but the
	// goroutines that park (the pool's workers between jobs, the caller waiting
	// for them) borrow records (sudogs) from per-P caches inside the runtime,
	// which allocates one when the cache of the P at hand runs dry. That happens
	// now and then until the caches fill, never once per call. So count over many
	// calls, with garbage collection (which empties those caches) off, and fail
	// on anything that could be an allocation per call.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	all := func() {
		for _, f := range calls {
			f()
		}
	}
	mallocs(3, all) // warm-up at 4 parts: packing buffers, pool goroutines
	const rounds = 5
	n := mallocs(rounds, all)
	t.Logf("%d allocations (runtime sudogs) in %d calls at GOMAXPROCS 4", n, rounds*len(calls))
	if n > uint64(rounds*len(calls)/20) {
		t.Errorf("%d allocations in %d calls at GOMAXPROCS 4", n, rounds*len(calls))
	}
}

// mallocs counts heap allocations by every goroutine during runs calls of f, at
// the current GOMAXPROCS (unlike testing.AllocsPerRun).
func mallocs(runs int, f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}
