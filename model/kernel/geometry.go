package kernel

// Geometry is the shape of a square-kernel 2-D convolution, or transposed
// convolution, without bias, over a batch of NCHW tensors.
//
// Tensors are row-major float32 slices: element (n, c, h, w) of a tensor with C
// channels of H×W is at ((n*C+c)*H+h)*W+w.
type Geometry struct {
	Batch, InC, InH, InW int // input: Batch images of InC channels of InH×InW
	OutC                 int // output channels
	Kernel, Stride, Pad  int // square kernel size, stride and zero padding
}

// ConvOut is the output size of a convolution: (In+2·Pad−Kernel)/Stride+1.
func (g Geometry) ConvOut() (h, w int) {
	return (g.InH+2*g.Pad-g.Kernel)/g.Stride + 1, (g.InW+2*g.Pad-g.Kernel)/g.Stride + 1
}

// ConvTransposeOut is the output size of a transposed convolution (with no
// output padding): (In−1)·Stride−2·Pad+Kernel.
func (g Geometry) ConvTransposeOut() (h, w int) {
	return (g.InH-1)*g.Stride - 2*g.Pad + g.Kernel, (g.InW-1)*g.Stride - 2*g.Pad + g.Kernel
}

// inLen, weightLen and friends are the slice lengths a geometry needs.
func (g Geometry) inLen() int     { return g.Batch * g.InC * g.InH * g.InW }
func (g Geometry) weightLen() int { return g.InC * g.OutC * g.Kernel * g.Kernel }

// check panics unless every size is positive, the stride is positive and the
// pad is not negative. (The output size is checked by the callers: it differs.)
func (g Geometry) check() {
	if g.Batch < 1 || g.InC < 1 || g.InH < 1 || g.InW < 1 || g.OutC < 1 ||
		g.Kernel < 1 || g.Stride < 1 || g.Pad < 0 {
		panic(badGeometry)
	}
}

// checkConv validates g for Conv2D and returns the output size.
func (g Geometry) checkConv(dst, src, weight []float32) (oh, ow int) {
	g.check()
	if g.InH+2*g.Pad < g.Kernel || g.InW+2*g.Pad < g.Kernel {
		panic(emptyOutput)
	}
	oh, ow = g.ConvOut()
	checkLens(dst, src, weight, g, g.Batch*g.OutC*oh*ow)
	return oh, ow
}

// checkConvTranspose validates g for ConvTranspose2D and returns the output size.
func (g Geometry) checkConvTranspose(dst, src, weight []float32) (oh, ow int) {
	g.check()
	oh, ow = g.ConvTransposeOut()
	if oh < 1 || ow < 1 {
		panic(emptyOutput)
	}
	checkLens(dst, src, weight, g, g.Batch*g.OutC*oh*ow)
	return oh, ow
}

func checkLens(dst, src, weight []float32, g Geometry, outLen int) {
	if len(src) < g.inLen() {
		panic(shortSrc)
	}
	if len(weight) < g.weightLen() {
		panic(shortWeight)
	}
	if len(dst) < outLen {
		panic(shortDst)
	}
}
