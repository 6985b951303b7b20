package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Benchmarks named after the generator's layers at the default configuration
// (32×32, nc=1, ngf=64, nz=100), at batch 1 (the browser's case) and 64.
//
//	single core:  taskset -c 0 go test -run '^$' -bench . -cpu 1 ./model/kernel
//	two cores:    go test -run '^$' -bench . -cpu 2 ./model/kernel
//	wasm (Node):  GOOS=js GOARCH=wasm PATH="$PATH:$(go env GOROOT)/lib/wasm" go test -run '^$' -bench . -benchtime 2s ./model/kernel
//
// Give -cpu one value per run: with a list, Go sets GOMAXPROCS for the top-level
// benchmark only, and every sub-benchmark runs at the last value whatever its
// name says. Under wasm use a longer -benchtime: V8 first runs the kernels
// unoptimised and swaps in optimised code during the first second or so.

type benchLayer struct {
	name       string
	g          Geometry // Batch is set per run
	transposed bool
	bn         bool       // followed by batch norm
	act        Activation // then this activation
}

// generatorLayers returns GANomaly's encoder and decoder at 32×32, nc=1, nz=100
// and the given ngf: the layer names spell in-out channels and input size.
func generatorLayers(ngf int) (enc, dec []benchLayer) {
	name := func(kind string, in, out, size int) string {
		return fmt.Sprintf("%s-%d-%d-%dx%d", kind, in, out, size, size)
	}
	enc = []benchLayer{
		{name("enc", 1, ngf, 32), Geometry{0, 1, 32, 32, ngf, 4, 2, 1}, false, false, LeakyReLU},
		{name("enc", ngf, 2*ngf, 16), Geometry{0, ngf, 16, 16, 2 * ngf, 4, 2, 1}, false, true, LeakyReLU},
		{name("enc", 2*ngf, 4*ngf, 8), Geometry{0, 2 * ngf, 8, 8, 4 * ngf, 4, 2, 1}, false, true, LeakyReLU},
		{name("enc", 4*ngf, 100, 4), Geometry{0, 4 * ngf, 4, 4, 100, 4, 1, 0}, false, false, Identity},
	}
	dec = []benchLayer{
		{name("dec", 100, 4*ngf, 1), Geometry{0, 100, 1, 1, 4 * ngf, 4, 1, 0}, true, true, ReLU},
		{name("dec", 4*ngf, 2*ngf, 4), Geometry{0, 4 * ngf, 4, 4, 2 * ngf, 4, 2, 1}, true, true, ReLU},
		{name("dec", 2*ngf, ngf, 8), Geometry{0, 2 * ngf, 8, 8, ngf, 4, 2, 1}, true, true, ReLU},
		{name("dec", ngf, 1, 16), Geometry{0, ngf, 16, 16, 1, 4, 2, 1}, true, false, Tanh},
	}
	return enc, dec
}

// extraLayer is one of the optional extra layers at the first width (ngf=64).
var extraLayer = benchLayer{"extra-64-64-16x16", Geometry{0, 64, 16, 16, 64, 3, 1, 1}, false, true, LeakyReLU}

// flops is 2·OutC·InC·K²·(output pixels) for a convolution and
// 2·InC·OutC·K²·(input pixels) for a transposed one.
func (l benchLayer) flops() float64 {
	g := l.g
	px := g.InH * g.InW
	if !l.transposed {
		oh, ow := g.ConvOut()
		px = oh * ow
	}
	return 2 * float64(g.Batch*g.OutC*g.InC*g.Kernel*g.Kernel*px)
}

func (l benchLayer) outLen() int {
	g := l.g
	oh, ow := g.ConvOut()
	if l.transposed {
		oh, ow = g.ConvTransposeOut()
	}
	return g.Batch * g.OutC * oh * ow
}

func (l benchLayer) run(dst, src, w []float32, ws *Workspace) {
	if l.transposed {
		ConvTranspose2D(dst, src, w, l.g, ws)
	} else {
		Conv2D(dst, src, w, l.g, ws)
	}
}

func benchLayers(b *testing.B, layers []benchLayer) {
	for _, l := range layers {
		for _, batch := range []int{1, 64} {
			l.g.Batch = batch
			b.Run(fmt.Sprintf("%s/b%d", l.name, batch), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1))
				src := make([]float32, l.g.inLen())
				w := make([]float32, l.g.weightLen())
				fillUniform(r, src)
				fillUniform(r, w)
				dst := make([]float32, l.outLen())
				ws := new(Workspace)
				l.run(dst, src, w, ws)
				cpu := cpuSeconds()
				for b.Loop() {
					l.run(dst, src, w, ws)
				}
				reportFlops(b, l.flops(), cpu)
			})
		}
	}
}

func BenchmarkConv2D(b *testing.B) {
	enc, _ := generatorLayers(64)
	benchLayers(b, append(enc, extraLayer))
}

func BenchmarkConvTranspose2D(b *testing.B) {
	_, dec := generatorLayers(64)
	benchLayers(b, dec)
}

// BenchmarkGenerator runs GANomaly's whole generator, encoder → decoder →
// encoder, with folded batch norms and activations, as model code would: about
// 105 MFLOP per image at ngf=64 (the default), 7.3 MFLOP at ngf=16 (a small
// configuration for the browser).
func BenchmarkGenerator(b *testing.B) {
	for _, c := range []struct{ ngf, batch int }{{64, 1}, {64, 64}, {16, 1}, {16, 64}} {
		enc, dec := generatorLayers(c.ngf)
		net := append(append(append([]benchLayer{}, enc...), dec...), enc...)
		batch := c.batch
		b.Run(fmt.Sprintf("ngf%d/b%d", c.ngf, batch), func(b *testing.B) {
			r := rand.New(rand.NewPCG(2, 2))
			type layer struct {
				benchLayer
				w, scale, shift, out []float32
			}
			var ls []layer
			var flops float64
			for _, l := range net {
				l.g.Batch = batch
				x := layer{benchLayer: l, w: make([]float32, l.g.weightLen()), out: make([]float32, l.outLen())}
				fillUniform(r, x.w)
				for i := range x.w {
					x.w[i] *= 0.05 // keep activations in range through 12 layers
				}
				x.scale, x.shift = make([]float32, l.g.OutC), make([]float32, l.g.OutC)
				for c := range l.g.OutC {
					x.scale[c], x.shift[c] = 1, 0.01
				}
				ls = append(ls, x)
				flops += l.flops()
			}
			in := make([]float32, batch*32*32)
			fillUniform(r, in)
			ws := new(Workspace)
			forward := func() {
				src := in
				for _, l := range ls {
					l.run(l.out, src, l.w, ws)
					spatial := len(l.out) / (batch * l.g.OutC)
					switch {
					case l.bn:
						ScaleShiftActivate(l.out, batch, l.g.OutC, spatial, l.scale, l.shift, l.act)
					case l.act != Identity:
						Activate(l.out, l.act)
					}
					src = l.out
				}
			}
			forward()
			cpu := cpuSeconds()
			for b.Loop() {
				forward()
			}
			reportFlops(b, flops, cpu)
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// BenchmarkGemm climbs a ladder of square sizes.
func BenchmarkGemm(b *testing.B) {
	for _, n := range []int{16, 64, 256, 512} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 3))
			a, bb, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
			fillUniform(r, a)
			fillUniform(r, bb)
			ws := new(Workspace)
			Gemm(NoTrans, NoTrans, n, n, n, a, n, bb, n, false, c, n, ws)
			cpu := cpuSeconds()
			for b.Loop() {
				Gemm(NoTrans, NoTrans, n, n, n, a, n, bb, n, false, c, n, ws)
			}
			reportFlops(b, 2*float64(n*n*n), cpu)
		})
	}
}

// reportFlops reports flops per iteration as GFLOP/s of wall-clock time and, where
// the platform tells, as GFLOP per CPU-second used since cpu0 (all threads
// together: with -cpu 2 it measures efficiency, not speed-up).
func reportFlops(b *testing.B, flops, cpu0 float64) {
	total := flops * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuSeconds(); cpu0 >= 0 && cpu > cpu0 {
		b.ReportMetric(total/(cpu-cpu0)/1e9, "GFLOP/cpu-s")
	}
}
