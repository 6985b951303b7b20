package torch

import (
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// NewConvTranspose2DWeight creates the trainable weight of a transposed 2-D
// convolution from in to out channels with a k×k kernel, named "weight"
// under p, in libtorch's layout [in, out, k, k]. Use it with ConvTranspose2D
// instead of nn.NewConvTranspose2D, which allocates [out, in, k, k] and so
// fails whenever in != out.
func NewConvTranspose2DWeight(p *nn.Path, in, out, k int64, init nn.Init) (*ts.Tensor, error) {
	return p.NewVar("weight", []int64{in, out, k, k}, init)
}

// ConvTranspose2D applies a transposed convolution with a weight of layout
// [in, out, k, k], no bias (pass nil) or a bias of [out], one group, no
// dilation and no output padding: the configuration DCGAN-style decoders use.
// The output side is (side-1)·stride - 2·padding + k.
func ConvTranspose2D(x, weight, bias *ts.Tensor, stride, padding int64) (*ts.Tensor, error) {
	if bias == nil {
		// gotch dereferences the *Tensor; an undefined tensor means no bias.
		bias = ts.NewTensor()
		defer bias.MustDrop()
	}
	return ts.ConvTranspose2d(x, weight, bias,
		[]int64{stride, stride}, []int64{padding, padding}, []int64{0, 0}, 1, []int64{1, 1})
}
