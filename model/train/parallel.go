package train

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/ganomaly-go/ganomaly-go/model/learn"
)

// Shard is one data-parallel trainer of a [ParallelEngine]: in another Web Worker in
// the browser, or in this process (see [LocalShard]). Every shard starts from the
// same state as the engine's own trainer (the same seed, or the same Restore) and
// receives the same averaged gradients, so all hold the same model throughout.
type Shard interface {
	// Gradients computes the gradients of one step on n images x and returns them
	// with the shard's losses and its batch norms' running statistics (updated by
	// its own images), without changing a weight.
	Gradients(x []float32, n int) (ShardResult, error)
	// Apply takes the Adam steps with the averaged gradients, sets the running
	// statistics to the averaged ones, and re-initialises D when reinitD is set.
	Apply(avg ShardResult, reinitD bool) error
	// Restore sets the shard's whole training state (a resumed run).
	Restore(learn.State) error
}

// ShardResult is what a shard returns from Gradients, and what Apply receives
// averaged: G's and D's gradients, and G's and D's running statistics, flat in the
// order of learn.Trainer.Grads and Buffers.
type ShardResult struct {
	Losses             learn.Losses
	GGrads, DGrads     []float32
	GBuffers, DBuffers []float32
}

// ParallelEngine is the pure-Go engine run as synchronous data parallelism: each
// step's batch is cut into one contiguous shard per trainer (its own and the
// followers'), the shards' gradients and running statistics are averaged, weighted
// by their sizes, and every trainer takes the same Adam step. Batch norm normalises
// each shard by its own statistics, as PyTorch's DistributedDataParallel without
// SyncBatchNorm does: with shards of 32 the statistics are noisier than a batch of
// 64's, which the tests check costs no accuracy.
type ParallelEngine struct {
	goEngine
	followers []Shard
	describe  string
}

// NewParallelEngine builds the engine for o with its own trainer and the followers,
// which must each hold the trainer's initial state (learn.NewTrainer with o's config,
// hyperparameters and seed). describe names it for people.
func NewParallelEngine(o Options, followers []Shard, describe string) (*ParallelEngine, error) {
	t, err := learn.NewTrainer(o.Config, o.Hyper(), o.Seed)
	if err != nil {
		return nil, err
	}
	return &ParallelEngine{goEngine: goEngine{t}, followers: followers, describe: describe}, nil
}

// Describe names the engine and its workers.
func (e *ParallelEngine) Describe() string { return e.describe }

// minShard is the fewest images a shard takes: batch norm in train mode needs two.
const minShard = 2

// Step takes one data-parallel step on n images x.
func (e *ParallelEngine) Step(x []float32, n int) (learn.Losses, error) {
	per := len(x) / max(n, 1)
	shards := min(1+len(e.followers), max(1, n/minShard))
	type part struct {
		res ShardResult
		n   int
		err error
	}
	parts := make([]part, shards)
	var wg sync.WaitGroup
	start := 0
	for i := range shards {
		size := n / shards
		if i < n%shards {
			size++
		}
		xs := x[start*per : (start+size)*per]
		start += size
		parts[i].n = size
		if i == 0 {
			continue // the engine's own shard runs below, while the others work
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i].res, parts[i].err = e.followers[i-1].Gradients(xs, size)
		}()
	}
	// Let the followers' goroutines hand over their batches before this one computes:
	// under WebAssembly there is one thread, and a goroutine runs only when the
	// running one yields.
	runtime.Gosched()
	l, err := e.t.Gradients(x[:parts[0].n*per], parts[0].n)
	wg.Wait()
	if err != nil {
		return l, err
	}
	gg, dg := e.t.Grads()
	gb, db := e.t.Buffers()
	parts[0].res = ShardResult{Losses: l, GGrads: gg, DGrads: dg, GBuffers: gb, DBuffers: db}
	for i, p := range parts {
		if p.err != nil {
			return l, fmt.Errorf("worker %d: %w", i, p.err)
		}
		r := p.res
		if len(r.GGrads) != len(gg) || len(r.DGrads) != len(dg) || len(r.GBuffers) != len(gb) || len(r.DBuffers) != len(db) {
			return l, fmt.Errorf("worker %d returned %d+%d gradients and %d+%d statistics, want %d+%d and %d+%d",
				i, len(r.GGrads), len(r.DGrads), len(r.GBuffers), len(r.DBuffers), len(gg), len(dg), len(gb), len(db))
		}
	}
	// Average into the engine's own trainer's storage, weighted by shard sizes (the
	// losses are means over images, so this is the gradient of the whole batch's
	// mean loss).
	var avg learn.Losses
	if shards > 1 {
		w0 := float32(parts[0].n) / float32(n)
		for _, s := range [][]float32{gg, dg, gb, db} {
			for j := range s {
				s[j] *= w0
			}
		}
		for _, p := range parts[1:] {
			w := float32(p.n) / float32(n)
			for _, pair := range [][2][]float32{{gg, p.res.GGrads}, {dg, p.res.DGrads}, {gb, p.res.GBuffers}, {db, p.res.DBuffers}} {
				dst, src := pair[0], pair[1]
				for j := range dst {
					dst[j] += w * src[j]
				}
			}
		}
	}
	for _, p := range parts {
		w := float64(p.n) / float64(n)
		avg.Adv += w * p.res.Losses.Adv
		avg.Con += w * p.res.Losses.Con
		avg.Enc += w * p.res.Losses.Enc
		avg.G += w * p.res.Losses.G
		avg.D += w * p.res.Losses.D
	}
	reinit := avg.D < learn.DReinitBelow
	// Every follower steps, also one that had no images this step (a batch too small
	// to give each two).
	errs := make([]error, 1+len(e.followers))
	shared := ShardResult{GGrads: gg, DGrads: dg, GBuffers: gb, DBuffers: db}
	for i, f := range e.followers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i+1] = f.Apply(shared, reinit)
		}()
	}
	runtime.Gosched()
	errs[0] = e.t.Apply(reinit)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return avg, fmt.Errorf("worker %d: %w", i, err)
		}
	}
	return avg, nil
}

// Restore sets the state of the engine's trainer and of every follower.
func (e *ParallelEngine) Restore(s learn.State) error {
	if err := e.t.Restore(s); err != nil {
		return err
	}
	for i, f := range e.followers {
		if err := f.Restore(s); err != nil {
			return fmt.Errorf("worker %d: %w", i+1, err)
		}
	}
	return nil
}

// LocalShard is a Shard in this process: a learn.Trainer.
type LocalShard struct{ T *learn.Trainer }

// Gradients implements Shard; the slices are the trainer's own.
func (s LocalShard) Gradients(x []float32, n int) (ShardResult, error) {
	l, err := s.T.Gradients(x, n)
	gg, dg := s.T.Grads()
	gb, db := s.T.Buffers()
	return ShardResult{Losses: l, GGrads: gg, DGrads: dg, GBuffers: gb, DBuffers: db}, err
}

// Apply implements Shard.
func (s LocalShard) Apply(avg ShardResult, reinitD bool) error {
	gg, dg := s.T.Grads()
	gb, db := s.T.Buffers()
	copy(gg, avg.GGrads)
	copy(dg, avg.DGrads)
	copy(gb, avg.GBuffers)
	copy(db, avg.DBuffers)
	return s.T.Apply(reinitD)
}

// Restore implements Shard.
func (s LocalShard) Restore(st learn.State) error { return s.T.Restore(st) }
