package torchengine

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

// newQuadratic makes one trainable parameter w (initial values w0) whose loss is
// Σ c_i·w_i², so that its gradient is 2·c_i·w_i.
func newQuadratic(w0 []float32) (*nn.VarStore, *param) {
	vs := nn.NewVarStore(gotch.CPU)
	var sc scope
	defer sc.drop()
	v := must(vs.Root().Add("w", fromSlice(&sc, w0, []int64{int64(len(w0))}, gotch.CPU), true))
	return vs, &param{Param: model.Param{Name: "w", Shape: []int{len(w0)}}, v: v}
}

func quadraticBackward(sc *scope, p *param, c []float32) {
	ct := fromSlice(sc, c, []int64{int64(len(c))}, gotch.CPU)
	loss := sc.t(sc.t(sc.t(p.v.Square(false)).Mul(ct, false)).Sum(gotch.Float, false))
	check(loss.Backward())
}

// TestAdamMatchesReference runs the libtorch Adam beside a naive float64 one written
// from PyTorch's documentation.
func TestAdamMatchesReference(t *testing.T) {
	w0 := []float32{1, -2, 0.5, 3, -0.25, 0, 7, -1e-3}
	c := []float32{1, 0.5, 2, 0.1, 3, 1, 0.01, 100}
	const lr, b1, b2, steps = 0.1, 0.5, 0.999, 25
	onWorker(t, func() (err error) {
		defer catch(&err)
		_, p := newQuadratic(w0)
		opt, err := newAdam([]*param{p}, lr, b1, b2)
		if err != nil {
			return err
		}
		// Reference.
		w := make([]float64, len(w0))
		m := make([]float64, len(w0))
		v := make([]float64, len(w0))
		for i := range w0 {
			w[i] = float64(w0[i])
		}
		worst := 0.0
		for step := 1; step <= steps; step++ {
			var sc scope
			opt.zeroGrad()
			quadraticBackward(&sc, p, c)
			opt.update()
			got := values(&sc, p.v)
			sc.drop()
			for i := range w {
				g := 2 * float64(c[i]) * w[i]
				m[i] = b1*m[i] + (1-b1)*g
				v[i] = b2*v[i] + (1-b2)*g*g
				mHat := m[i] / (1 - math.Pow(b1, float64(step)))
				vHat := v[i] / (1 - math.Pow(b2, float64(step)))
				w[i] -= lr * mHat / (math.Sqrt(vHat) + adamEps)
				worst = math.Max(worst, math.Abs(float64(got[i])-w[i])/math.Max(1, math.Abs(w[i])))
			}
		}
		t.Logf("Adam, %d steps: max relative difference from the float64 reference %.3g", steps, worst)
		if worst > 1e-5 {
			t.Errorf("libtorch Adam drifts from the reference by %.3g", worst)
		}
		return nil
	})
}

func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Skip("no VmRSS")
	return 0
}

// TestInPlaceDoesNotLeak guards against gotch's in-place methods leaking their tensors
// (see inPlace): 40 in-place ops on 4 MB temporaries leaked 160 MB without the fix, and
// an Adam update (before it made its temporaries out of place) 12 MB per update of a
// 4 MB parameter. RSS settles within some 40 updates (allocator pools, the Go heap's
// garbage), so growth is measured after those.
func TestInPlaceDoesNotLeak(t *testing.T) {
	const n = 1 << 20
	w0, c := make([]float32, n), make([]float32, n)
	for i := range w0 {
		w0[i], c[i] = 1, 0.5
	}
	onWorker(t, func() (err error) {
		defer catch(&err)
		_, p := newQuadratic(w0)
		opt, err := newAdam([]*param{p}, 1e-3, 0.5, 0.999)
		if err != nil {
			return err
		}
		var before int64
		for step := range 82 {
			if step == 42 {
				before = rssBytes(t)
			}
			var sc scope
			opt.zeroGrad()
			quadraticBackward(&sc, p, c)
			opt.update()
			tmp := sc.t(p.v.OnesLike(false))
			inPlace(tmp, tmp.Zero_)
			sc.drop()
		}
		grew := rssBytes(t) - before
		t.Logf("RSS grew by %.1f MB over 40 Adam updates of a %d MB parameter and 40 in-place ops on %d MB temporaries", float64(grew)/(1<<20), 4*n>>20, 4*n>>20)
		if grew > 80<<20 {
			t.Errorf("RSS grew by %d MB: tensors leak", grew>>20)
		}
		return nil
	})
}

// TestCloseFreesTheRun checks that closing the engine frees every tensor the run
// made (networks, gradients, Adam state), by gotch's own count of live tensor
// handles: without close they wait for finalizers, which nothing makes run soon.
func TestCloseFreesTheRun(t *testing.T) {
	opts := train.DefaultOptions()
	opts.Config = model.Config{ImageSize: 32, Channels: 1, Latent: 10, Width: 8}
	x := randomImages(rand.New(rand.NewPCG(1, 2)), 4, opts.Config.InputLen())
	onWorker(t, func() error {
		before := len(ts.ExistingTensors)
		tr, err := newTrainer(opts, gotch.CPU)
		if err != nil {
			return err
		}
		if _, err := tr.step(x, 4); err != nil {
			return err
		}
		live := len(ts.ExistingTensors) - before
		tr.close()
		if left := len(ts.ExistingTensors) - before; left != 0 {
			t.Errorf("after close, %d of the run's %d tensor handles are still live", left, live)
		}
		if live < 3*len(tr.optG.params) {
			t.Errorf("the run held only %d tensor handles: the count does not see them", live)
		}
		return nil
	})
}
