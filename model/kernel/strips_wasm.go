//go:build goexperiment.simd && wasm

package kernel

// minStripPanels is the fewest panels of B over which packing A in strips at a call
// pays: measured under V8 at width 64 with the earlier strips (every value
// broadcast, four times larger), the generator at batch 1 (late layers of 2 to 8
// panels) lost 20 % without this bound. With the compact strips 2, 4 and 8 measure
// the same. Weights packed at load (Strips) need no packing and take any number of
// panels.
const minStripPanels = 8

// stripBlocks is block's WebAssembly path: it multiplies the strips of A from row
// r0 on by the panels jb..je of bb with stripKernel, and returns the first row it
// left to block (the rows past the last whole strip, or all of them where strips do
// not pay). A is read from the weights packed at load (j.strips), or packed here
// into abuf, a group of strips at a time, when enough panels share the packing. A
// tile goes straight into C where its rows are rows of C (panelStarts), elsewhere
// through tile and storeTile.
func (j *gemmJob) stripBlocks(bb, abuf []float32, pc, kc, r0, r1, jb, je int, add bool, tile []float32) int {
	if r1-r0 < mr || (j.strips == nil && je-jb < minStripPanels) {
		return r0
	}
	var startBuf [ncPanels]int
	starts := startBuf[:je-jb]
	j.panelStarts(starts, jb)
	panel := kc * nr
	i := r0
	for i+mr <= r1 {
		g := min(stripGroup, (r1-i)/mr)
		strips, stride := abuf, mr*kc+stripPad
		switch {
		case j.strips != nil:
			strips, stride = j.strips.pass(pc, kc, i), mr*kc
		case j.transA:
			packAT(abuf, j.a, j.lda, pc, kc, i, g, stride)
		default:
			packAN(abuf, j.a, j.lda, pc, kc, i, g, stride)
		}
		for s := range g {
			ap := strips[s*stride : s*stride+mr*kc]
			row := (i + s*mr) * j.ldc
			for jp := jb; jp < je; jp++ {
				bp := bb[(jp-jb)*panel : (jp-jb+1)*panel]
				if o := starts[jp-jb]; o >= 0 {
					stripKernel(ap, bp, j.c[row+o:], j.ldc, add)
					continue
				}
				stripKernel(ap, bp, tile, nr, false)
				j.storeTile(i+s*mr, mr, jp, add, tile)
			}
		}
		i += g * mr
	}
	return i
}

// panelStarts sets starts[p] to the offset in C of row 0 of panel jb+p where the
// rows of its tiles are whole rows of nr values in memory, and to -1 elsewhere:
// a full panel of a plain matrix, or of a Conv2D output whose panel's pixels
// follow each other in one image. There the kernel stores a tile straight into C;
// elsewhere it goes through a buffer and storeTile.
func (j *gemmJob) panelStarts(starts []int, jb int) {
	for p := range starts {
		j0 := (jb + p) * nr
		starts[p] = -1
		if j0+nr > j.n {
			continue
		}
		switch j.ck {
		case cMatrix:
			starts[p] = j0
		case cStrided:
			if dst := j.colDst[j0 : j0+nr]; dst[nr-1]-dst[0] == nr-1 {
				starts[p] = dst[0]
			}
		}
	}
}
