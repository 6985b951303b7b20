package kernel

import (
	"math/rand/v2"
	"testing"
)

// FuzzFastMatchesRef holds Conv2D and ConvTranspose2D to their references (see
// checkConv: exactly on integers, within the rounding bound on uniform values)
// over fuzzed geometries. Run it with: go test -fuzz FuzzFastMatchesRef ./model/kernel
func FuzzFastMatchesRef(f *testing.F) {
	f.Add(uint8(0), uint8(2), uint8(4), uint8(6), uint8(5), uint8(3), uint8(1), uint8(1), uint64(1))
	f.Add(uint8(1), uint8(19), uint8(3), uint8(3), uint8(3), uint8(3), uint8(0), uint8(0), uint64(2))
	f.Add(uint8(2), uint8(7), uint8(8), uint8(1), uint8(1), uint8(4), uint8(2), uint8(2), uint64(3))
	ws := new(Workspace)
	f.Fuzz(func(t *testing.T, batch, inC, outC, inH, inW, kernel, stride, pad uint8, seed uint64) {
		g := Geometry{
			Batch: 1 + int(batch%3), InC: 1 + int(inC%40), OutC: 1 + int(outC%20),
			InH: 1 + int(inH%12), InW: 1 + int(inW%12),
			Kernel: 1 + int(kernel%5), Stride: 1 + int(stride%3), Pad: int(pad % 3),
		}
		r := rand.New(rand.NewPCG(seed, 0))
		if g.InH+2*g.Pad >= g.Kernel && g.InW+2*g.Pad >= g.Kernel {
			checkConv(t, r, convOp2D, "Conv2D", g, ws)
		}
		if oh, ow := g.ConvTransposeOut(); oh >= 1 && ow >= 1 {
			checkConv(t, r, convOpT, "ConvTranspose2D", g, ws)
		}
	})
}
