package learn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
)

// BenchmarkStep times one training step of the pure-Go trainer on the shape of the
// libtorch trainer's benchmark (server/internal/torchengine BenchmarkTrainStep): batch 64, 32×32,
// nc 1, nz 100, ngf 16 (what the browser trains) and 64 (the official size).
//
//	go test -run '^$' -bench Step -benchtime 10x ./model/learn
func BenchmarkStep(b *testing.B) {
	for _, width := range []int{16, 64} {
		if width == 64 && testing.Short() {
			continue
		}
		cfg := model.Config{ImageSize: 32, Channels: 1, Latent: 100, Width: width}
		b.Run(fmt.Sprintf("Batch64_32x32_nc1_ngf%d", width), func(b *testing.B) {
			const batch = 64
			tr, err := NewTrainer(cfg, DefaultHyper(), 1)
			if err != nil {
				b.Fatal(err)
			}
			x := randomBatch(rand.New(rand.NewPCG(3, 4)), cfg, batch)
			if _, err := tr.Step(x, batch); err != nil { // warm-up: buffers
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := tr.Step(x, batch); err != nil {
					b.Fatal(err)
				}
			}
			perStep := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(perStep*1e3, "ms/iter")
			b.ReportMetric(batch/perStep, "images/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
