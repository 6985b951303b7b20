package torchengine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

// BenchmarkTrainStep times one official training step (G forward, D on x and x̂, both
// backward passes and Adam updates) on the CPU, on the libtorch threads torch.Worker
// sets (see torch.Worker.Threads; OMP_NUM_THREADS overrides).
// The full-size case is the official MNIST setting: batch 64, 32×32, nc 1, nz 100,
// ngf 64; ngf 16 is the size the tests train at. ms/iter is the median step.
//
//	go test -run '^$' -bench TrainStep -benchtime 20x ./server/internal/torchengine
func BenchmarkTrainStep(b *testing.B) {
	for _, width := range []int{16, 64} {
		cfg := model.Config{ImageSize: 32, Channels: 1, Latent: 100, Width: width}
		b.Run(fmt.Sprintf("Batch64_32x32_nc1_ngf%d", width), func(b *testing.B) {
			opts := train.DefaultOptions()
			opts.Config = cfg
			const batch = 64
			x := randomImages(rand.New(rand.NewPCG(3, 4)), batch, cfg.InputLen())
			onWorker(b, func() error {
				tr, err := newTrainer(opts, gotch.CPU)
				if err != nil {
					return err
				}
				if _, err := tr.step(x, batch); err != nil { // warm-up: allocators, kernels
					return err
				}
				var steps []time.Duration
				b.ResetTimer()
				for b.Loop() {
					start := time.Now()
					if _, err := tr.step(x, batch); err != nil {
						return err
					}
					steps = append(steps, time.Since(start))
				}
				// The median step, as PyTorch's side of make bench-train reports: on
				// this machine a few steps in twenty can take twice as long.
				slices.Sort(steps)
				perStep := steps[len(steps)/2].Seconds()
				b.ReportMetric(perStep*1e3, "ms/iter")
				b.ReportMetric(batch/perStep, "images/s")
				b.ReportMetric(0, "ns/op")
				return nil
			})
		})
	}
}
