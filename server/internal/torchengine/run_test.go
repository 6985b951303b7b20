package torchengine

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sugarme/gotch"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

// Runs of model/train with this engine: model/train tests its protocol with the pure-Go
// engine, and here the libtorch engine is held to it.

// tiny is model/train's tiny run on libtorch: 16×16 MNIST, ngf 8, nz 16, 400 train
// normals in batches of 32, 200 test images.
func tiny() train.Options {
	o := train.DefaultOptions()
	o.Config = model.Config{ImageSize: 16, Channels: 1, Latent: 16, Width: 8}
	o.Data = data.Options{Dataset: data.MNIST, AnomalyClass: 2, Seed: 1, MaxTrain: 400, MaxTest: 200}
	o.Epochs, o.BatchSize, o.Device, o.LogEvery = 2, 32, "cpu", 0
	o.Engine = train.EngineTorch
	return o
}

// shortMNIST is model/train's short MNIST run (class 2, width 16, 3 epochs of 2,700
// normals).
func shortMNIST() train.Options {
	o := train.DefaultOptions()
	o.Config = model.Config{ImageSize: 32, Channels: 1, Latent: 100, Width: 16}
	o.Data = data.Options{Dataset: data.MNIST, AnomalyClass: 2, Seed: 0, MaxTrain: 3000, MaxTest: 2000}
	o.Epochs, o.Device, o.LogEvery = 3, "cpu", 0
	o.Engine = train.EngineTorch
	return o
}

func maxDiff(t *testing.T, a, b map[string][]float32) float64 {
	t.Helper()
	worst := 0.0
	for name, va := range a {
		vb, ok := b[name]
		if !ok || len(va) != len(vb) {
			t.Fatalf("tensor %q missing or resized", name)
		}
		for i := range va {
			worst = math.Max(worst, math.Abs(float64(va[i])-float64(vb[i])))
		}
	}
	return worst
}

// TestResumeAcrossEngines starts a run with libtorch and finishes it with the pure-Go
// engine from libtorch's checkpoint (and the other way round): the checkpoint holds
// all either needs, so the mixed run follows the uninterrupted one up to the float
// rounding the engines differ by (measured: 6e-8 after this run's 24 steps).
func TestResumeAcrossEngines(t *testing.T) {
	ctx := context.Background()
	for _, engines := range [][2]string{{train.EngineTorch, train.EngineGo}, {train.EngineGo, train.EngineTorch}} {
		whole := tiny()
		whole.Engine = engines[0]
		resA, err := train.Run(ctx, whole, nil)
		if err != nil {
			t.Fatal(err)
		}
		first := tiny()
		first.Engine, first.Epochs, first.CheckpointDir = engines[0], 1, t.TempDir()
		if _, err := train.Run(ctx, first, nil); err != nil {
			t.Fatal(err)
		}
		second := first
		second.Engine, second.Epochs, second.Resume = engines[1], 2, true
		resB, err := train.Run(ctx, second, nil)
		if err != nil {
			t.Fatal(err)
		}
		d := maxDiff(t, resA.Weights.Tensors, resB.Weights.Tensors)
		t.Logf("%s for 2 epochs vs %s then %s: max weight difference %.3g; test AUC %.4f vs %.4f", engines[0], engines[0], engines[1], d, resA.Test.AUC, resB.Test.AUC)
		if resB.Iterations != resA.Iterations || resB.BestEpoch != resA.BestEpoch {
			t.Errorf("%s → %s: %d steps, best epoch %d; uninterrupted %d steps, best %d", engines[0], engines[1], resB.Iterations, resB.BestEpoch, resA.Iterations, resA.BestEpoch)
		}
		if d > 1e-4 {
			t.Errorf("%s → %s: weights differ from the uninterrupted run's by %.3g", engines[0], engines[1], d)
		}
	}
}

// TestResumeContinuesWithin checks a libtorch run resumed from its own checkpoint: the
// checkpoint holds everything, so only libtorch's float rounding (its CPU kernels may
// split sums across threads differently from run to run) separates the two.
func TestResumeContinuesWithin(t *testing.T) {
	ctx := context.Background()
	resA, err := train.Run(ctx, tiny(), nil)
	if err != nil {
		t.Fatal(err)
	}
	first := tiny()
	first.Epochs, first.CheckpointDir = 1, t.TempDir()
	if _, err := train.Run(ctx, first, nil); err != nil {
		t.Fatal(err)
	}
	second := first
	second.Epochs, second.Resume = 2, true
	resB, err := train.Run(ctx, second, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := maxDiff(t, resA.Weights.Tensors, resB.Weights.Tensors)
	t.Logf("uninterrupted vs resumed: max weight difference %.3g", d)
	if d > 1e-4 || resB.BestEpoch != resA.BestEpoch {
		t.Errorf("resumed run: weights differ by %.3g, best epoch %d vs %d", d, resB.BestEpoch, resA.BestEpoch)
	}
}

// shortRuns keeps each engine's shortMNIST run for the tests that look at it.
var shortRuns struct {
	sync.Mutex
	done map[string]shortRun
}

type shortRun struct {
	res *train.Result
	err error
}

func shortMNISTRun(t *testing.T, engine string) *train.Result {
	t.Helper()
	shortRuns.Lock()
	defer shortRuns.Unlock()
	r, ok := shortRuns.done[engine]
	if !ok {
		o := shortMNIST()
		o.Engine = engine
		start := time.Now()
		r.res, r.err = train.Run(context.Background(), o, nil)
		if r.err == nil {
			t.Logf("%s engine: trained %d epochs (%d steps) in %v", engine, r.res.Epochs, r.res.Iterations, time.Since(start).Round(time.Second))
		}
		if shortRuns.done == nil {
			shortRuns.done = map[string]shortRun{}
		}
		shortRuns.done[engine] = r
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.res
}

// TestTrainShortMNISTOnLibtorch trains model/train's short run with libtorch: a model
// clearly better than chance whose generator, in gotch and in pure Go, gives the same
// outputs.
func TestTrainShortMNISTOnLibtorch(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 20 seconds")
	}
	o := shortMNIST()
	res := shortMNISTRun(t, train.EngineTorch)
	t.Logf("test AUC %.4f, AP %.4f, F1 at the calibrated threshold %.4f", res.Test.AUC, res.Test.AP, res.Test.F1AtThreshold)
	if res.Test.AUC < 0.6 {
		t.Errorf("test AUC %.4f: not clearly better than chance (0.5)", res.Test.AUC)
	}
	if !strings.Contains(res.Weights.Provenance.Trainer, "libtorch engine") {
		t.Errorf("provenance trainer %q: want the engine named", res.Weights.Provenance.Trainer)
	}
	split, err := data.Load(data.Options{Dataset: data.MNIST, AnomalyClass: 2, Seed: 0, MaxTrain: 3000, MaxTest: 2000})
	if err != nil {
		t.Fatal(err)
	}
	f := exportForTest(t, o.Config, res.Weights.Tensors)
	// The trained generator in gotch agrees with the pure-Go one on its outputs.
	onWorker(t, func() error {
		g, err := newGenerator(o.Config, gotch.CPU, res.Weights.Tensors)
		if err != nil {
			return err
		}
		x := split.Test.Batch(nil, []int{0, 1, 2, 3, split.Test.N - 4, split.Test.N - 3, split.Test.N - 2, split.Test.N - 1})
		compareOutputs(t, g, o.Config, f.Tensors, x, 8)
		return nil
	})

}

// TestEnginesAgreeOnMNIST trains the short MNIST run with the pure-Go engine (the
// browser's trainer) and with libtorch: the same settings must give models about as
// good. Their steps agree to 1e-7 (TestPureGoStepMatchesGotch), but hundreds of GAN
// steps amplify float rounding, so the runs end at different weights; what must agree
// is what they learnt.
func TestEnginesAgreeOnMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains twice for about a minute")
	}
	torchRes := shortMNISTRun(t, train.EngineTorch)
	goRes := shortMNISTRun(t, train.EngineGo)
	t.Logf("class 2, width 16, 3 epochs of 2700 normals: test AUC libtorch %.4f, pure Go %.4f (kept epochs %d and %d)",
		torchRes.Test.AUC, goRes.Test.AUC, torchRes.BestEpoch, goRes.BestEpoch)
	if d := math.Abs(goRes.Test.AUC - torchRes.Test.AUC); d > 0.03 {
		t.Errorf("test AUC: pure Go %.4f, libtorch %.4f: more than 0.03 apart", goRes.Test.AUC, torchRes.Test.AUC)
	}
	if goRes.Test.AUC < 0.6 {
		t.Errorf("pure-Go test AUC %.4f: not clearly better than chance", goRes.Test.AUC)
	}
}

// TestTrainShortFashionMNIST is the same short run on Fashion-MNIST with the bag held
// out: measured with these settings (ganomaly train --dataset fashion-mnist --classes
// 1,5,8,9 --width 16 --epochs 3 --max-train 3000 --max-test 2000), test AUCs were
// trouser 0.65, sandal 0.86, bag 0.96, ankle boot 0.81.
func TestTrainShortFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 20 seconds")
	}
	if _, err := data.FashionMNISTDir(""); err != nil {
		if os.Getenv("GANOMALY_REQUIRE_FASHION") != "" {
			t.Fatalf("Fashion-MNIST absent (make datasets installs it): %v", err)
		}
		t.Skipf("Fashion-MNIST absent (apt-get install dataset-fashion-mnist): %v", err)
	}
	o := shortMNIST()
	o.Data.Dataset, o.Data.AnomalyClass = data.FashionMNIST, 8
	res, err := train.Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Fashion-MNIST, %s held out: test AUC %.4f, AP %.4f, F1 at the calibrated threshold %.4f",
		res.Weights.Provenance.AnomalyClass, res.Test.AUC, res.Test.AP, res.Test.F1AtThreshold)
	if res.Weights.Provenance.AnomalyClass != "Bag" || res.Weights.Provenance.Dataset != data.FashionMNIST {
		t.Errorf("provenance %+v", res.Weights.Provenance)
	}
	if res.Test.AUC < 0.75 {
		t.Errorf("test AUC %.4f: well below the 0.96 measured with these settings", res.Test.AUC)
	}
	if c := res.Weights.Calibration; c.Samples != res.ValidationImages || !(c.Threshold > c.Min && c.Threshold < c.Max) {
		t.Errorf("calibration %+v: want one from the %d validation images", c, res.ValidationImages)
	}
}

// TestReinitD re-initialises D and checks that its weights change, its running
// statistics and Adam state do not, and G is untouched.
func TestReinitD(t *testing.T) {
	o := tiny()
	x := randomImages(rand.New(rand.NewPCG(5, 6)), 32, o.Config.InputLen())
	onWorker(t, func() error {
		tr, err := newTrainer(o, gotch.CPU)
		if err != nil {
			return err
		}
		if _, err := tr.step(x, 32); err != nil {
			return err
		}
		g0, _ := tr.g.snapshot()
		d0, _ := tr.d.snapshot()
		var sc scope
		defer sc.drop()
		m0, _ := tr.optD.state(&sc)
		if err := tr.reinitD(); err != nil {
			return err
		}
		g1, _ := tr.g.snapshot()
		d1, _ := tr.d.snapshot()
		m1, _ := tr.optD.state(&sc)
		if maxDiff(t, g0, g1) != 0 || maxDiff(t, m0, m1) != 0 {
			t.Error("re-initialising D changed G or D's Adam state")
		}
		for _, p := range o.Config.Discriminator().Params() {
			changed := maxDiff(t, map[string][]float32{p.Name: d0[p.Name]}, map[string][]float32{p.Name: d1[p.Name]}) > 0
			switch {
			case p.Buffer && changed:
				t.Errorf("%s: a running statistic changed", p.Name)
			case strings.HasPrefix(p.Init, "normal") && !changed:
				t.Errorf("%s: not re-initialised", p.Name)
			}
		}
		return nil
	})
}
