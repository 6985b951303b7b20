package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
)

func TestValidateRefusesAbsurdOptions(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("DefaultOptions: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Options)
		want   string
		// setting is what model.Invalid names: a form puts the reason beside it.
		setting string
	}{
		{"zero batch", func(o *Options) { o.BatchSize = 0 }, "batch size 0", "batch_size"},
		{"negative batch", func(o *Options) { o.BatchSize = -3 }, "batch size -3", "batch_size"},
		{"huge batch", func(o *Options) { o.BatchSize = 1 << 20 }, "batch size", "batch_size"},
		{"negative epochs", func(o *Options) { o.Epochs = -1 }, "epochs -1", "epochs"},
		{"zero epochs", func(o *Options) { o.Epochs = 0 }, "epochs 0", "epochs"},
		{"bad image size", func(o *Options) { o.Config.ImageSize = 30 }, "image size 30", "image_size"},
		{"data size differs", func(o *Options) { o.Data.Size = 64 }, "differs from the model's image size", ""},
		{"unknown protocol", func(o *Options) { o.Protocol = "fast" }, `unknown protocol "fast"`, "protocol"},
		{"no data set", func(o *Options) { o.Data.Dataset = "" }, "no data set", "dataset"},
		{"unknown data set", func(o *Options) { o.Data.Dataset = "cifar" }, `unknown data set "cifar"`, "dataset"},
		{"bad class", func(o *Options) { o.Data.AnomalyClass = 10 }, "anomaly class 10", "anomaly_class"},
		{"NaN lr", func(o *Options) { o.LR = math.NaN() }, "learning rate NaN", "lr"},
		{"negative lr", func(o *Options) { o.LR = -1e-3 }, "learning rate", "lr"},
		{"beta1 one", func(o *Options) { o.Beta1 = 1 }, "beta1 1", "beta1"},
		{"negative weight", func(o *Options) { o.WCon = -50 }, "w_con -50", "w_con"},
		{"all weights zero", func(o *Options) { o.WAdv, o.WCon, o.WEnc = 0, 0, 0 }, "all loss weights are 0", ""},
		{"bad score", func(o *Options) { o.Score = "l3" }, `unknown score "l3"`, "score"},
		{"bad quantile", func(o *Options) { o.CalibrationQuantile = 1 }, "calibration quantile 1", "calibration_quantile"},
		{"bad device", func(o *Options) { o.Device = "tpu" }, `device "tpu"`, "device"},
		{"bad cuda index", func(o *Options) { o.Device = "cuda:x" }, `device "cuda:x"`, "device"},
		{"resume without dir", func(o *Options) { o.Resume = true }, "resume needs a checkpoint directory", "resume"},
		{"honest without validation", func(o *Options) { o.Data.ValidationFraction = data.NoValidation }, "validation split", "validation_fraction"},
		{"negative max iterations", func(o *Options) { o.MaxIterations = -1 }, "max iterations -1", "max_iterations"},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.change(&o)
		err := o.Validate()
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want one wrapping ErrOptions and mentioning %q", c.name, err, c.want)
		}
		invs := model.Invalids(err)
		if len(invs) != 1 || invs[0].Setting != c.setting || !strings.Contains(invs[0].Reason, c.want) || strings.Contains(invs[0].Reason, "invalid") {
			t.Errorf("%s: typed errors %+v, want one for setting %q saying %q without the packages' context", c.name, invs, c.setting, c.want)
		}
	}
	// Several problems are reported together.
	o := DefaultOptions()
	o.BatchSize, o.Epochs = 0, -2
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "batch size 0") || !strings.Contains(err.Error(), "epochs -2") {
		t.Errorf("two problems: got %v", err)
	}
	// A run with absurd options fails before loading anything.
	o = DefaultOptions()
	o.BatchSize = 0
	var events []Event
	start := time.Now()
	if _, err := Run(context.Background(), o, func(e Event) { events = append(events, e) }); err == nil {
		t.Error("Run accepted batch size 0")
	}
	if len(events) != 1 || events[0].Kind != EventError {
		t.Errorf("events %+v, want one error event", events)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing took %v: work started before validation", d)
	}
}

// shortMNIST is the short real training run of the tests: ngf 16 on 3000 MNIST train
// normals (2700 train + 300 validation), 3 epochs of 42 steps, 2000 test images.
//
// Anomaly class 2, because it is the easiest for this short run, measured: the same
// settings for every class (ganomaly train --classes 0-9 --width 16 --epochs 3
// --max-train 3000 --max-test 2000) gave test AUCs 0: 0.83, 1: 0.40, 2: 0.89, 3: 0.69,
// 4: 0.66, 5: 0.71, 6: 0.74, 7: 0.68, 8: 0.43, 9: 0.32. A 2's curved top, diagonal and
// flat base are unlike the other digits' strokes; 1, 8 and 9 are built from strokes
// the other digits share and score at or below chance after a short run (digit 1 is
// poor for every method in the paper too).
func shortMNIST() Options {
	o := DefaultOptions()
	o.Config = model.Config{ImageSize: 32, Channels: 1, Latent: 100, Width: 16}
	o.Data = data.Options{Dataset: data.MNIST, AnomalyClass: 2, Seed: 0, MaxTrain: 3000, MaxTest: 2000}
	o.Epochs = 3
	o.Device = "cpu"
	o.LogEvery = 0
	o.Engine = EngineGo
	return o
}

// TestTrainShortMNIST trains for real and checks that the model detects the anomaly
// class clearly better than chance, that every output follows the honest protocol, and
// that the exported weights, scored by the pure-Go model, agree with the trainer.
func TestTrainShortMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about a minute")
	}
	o := shortMNIST()
	res, events := shortMNISTRun(t, EngineGo)
	for _, e := range res.History {
		t.Logf("epoch %d: validation L1 %.4f, mean validation score %.4g, best %v", e.Epoch, e.Figures.ValLoss, e.Figures.ValScore, e.Figures.Best)
	}
	t.Logf("test (%s protocol, class %s): AUC %.4f, AP %.4f, best F1 %.4f, F1 at calibrated threshold %.4f, EER %.4f",
		res.Protocol, res.Weights.Provenance.AnomalyClass, res.Test.AUC, res.Test.AP, res.Test.BestF1, res.Test.F1AtThreshold, res.Test.EER)
	if res.Test.AUC < 0.6 {
		t.Errorf("test AUC %.4f: not clearly better than chance (0.5)", res.Test.AUC)
	}
	if res.Protocol != Honest || res.Label != "" || res.Exported != nil {
		t.Errorf("protocol %q label %q exported %v: want the honest protocol's outputs", res.Protocol, res.Label, res.Exported)
	}
	if got := kinds(events); got[0] != EventStart || got[len(got)-1] != EventDone || count(got, EventEpoch) != o.Epochs {
		t.Errorf("events %v: want start, %d epochs, done", got, o.Epochs)
	}
	if res.Test.Positives+res.Test.Negatives != res.TestImages || res.TestImages != 2000 {
		t.Errorf("test report over %d+%d images, split has %d", res.Test.Positives, res.Test.Negatives, res.TestImages)
	}
	if c := res.Weights.Calibration; c.Samples != res.ValidationImages || !(c.Threshold > c.Min && c.Threshold < c.Max) {
		t.Errorf("calibration %+v: want one from the %d validation images", c, res.ValidationImages)
	}

	// The exported file, read back, scores test images in pure Go as the trainer did.
	f := exportForTest(t, o.Config, res.Weights.Tensors)
	f.Calibration = res.Weights.Calibration
	det, err := model.NewDetector(f)
	if err != nil {
		t.Fatal(err)
	}
	split, err := data.Load(o.withDefaults().Data)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	const checked = 256
	for i := range checked {
		j := i * split.Test.N / checked // normals and anomalies alike
		rs, err := det.Score(nil, split.Test.Image(j), 1)
		if err != nil {
			t.Fatal(err)
		}
		r := rs[0]
		worst = math.Max(worst, math.Abs(r.Raw-res.Scores[j])/math.Max(res.Scores[j], 1e-12))
	}
	t.Logf("pure-Go scores of %d test images vs the trainer's: max relative difference %.3g", checked, worst)
	if worst > 1e-3 {
		t.Errorf("pure-Go scores differ from the trainer's by up to %.3g relative", worst)
	}

	card, err := NewModelCard(res, "test.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if len(card.ROC) < 3 || len(card.ROC) > cardROCPoints+2 || card.ROC[0].Threshold != nil {
		t.Errorf("card ROC has %d points, first %+v", len(card.ROC), card.ROC[0])
	}
	if n, a := card.Histograms.Normal.Total(), card.Histograms.Anomalous.Total(); n+a != res.TestImages {
		t.Errorf("card histograms hold %d+%d scores, want %d", n, a, res.TestImages)
	}
	// The latent map: a basis over the latent, a sample of each class, and the first
	// normal test image's point where the pure-Go model's z projects.
	m := card.PCA
	if m == nil || len(m.Mean) != o.Config.Latent || len(m.Points) != min(res.Test.Negatives, cardMapPoints)+min(res.Test.Positives, cardMapPoints) {
		t.Fatalf("card latent map: %+v", m)
	}
	first := slices.Index(res.Labels, false)
	z, _, _ := det.Generator().Forward(split.Test.Image(first), 1)
	x, y := m.Project(z)
	if d := math.Hypot(x-m.Points[0].X, y-m.Points[0].Y); d > 1e-3*math.Max(1, math.Hypot(x, y)) || m.Points[0].Anomalous {
		t.Errorf("first normal test image at (%g, %g) in pure Go, (%g, %g) in the card", x, y, m.Points[0].X, m.Points[0].Y)
	}
	t.Logf("latent map: %d points, the plane holds %.1f%% of the variance", len(m.Points), 100*(m.Variance[0]+m.Variance[1])/m.TotalVariance)
}

// shortRuns keeps each engine's shortMNIST run for the tests that look at it.
var shortRuns struct {
	sync.Mutex
	done map[string]shortRun
}

type shortRun struct {
	res    *Result
	events []Event
	err    error
}

// shortMNISTRun trains shortMNIST with engine once per test binary.
func shortMNISTRun(t *testing.T, engine string) (*Result, []Event) {
	t.Helper()
	shortRuns.Lock()
	defer shortRuns.Unlock()
	r, ok := shortRuns.done[engine]
	if !ok {
		o := shortMNIST()
		o.Engine = engine
		start := time.Now()
		r.res, r.err = Run(context.Background(), o, func(e Event) { r.events = append(r.events, e) })
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
	return r.res, r.events
}

func kinds(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

func count(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// exportForTest writes tensors as a weights file and reads it back through package
// model, so that the comparisons cover the file format and the names.
func exportForTest(t *testing.T, cfg model.Config, tensors map[string][]float32) *model.WeightsFile {
	t.Helper()
	f := &model.WeightsFile{Config: cfg, Tensors: tensors,
		Calibration: model.Calibration{Score: model.ScoreMSE, Min: 0, Max: 1, Threshold: 0.5, Method: "test"}}
	path := filepath.Join(t.TempDir(), "g.safetensors")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := model.ReadWeightsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

// TestTestSplitOf rebuilds the test split a model was trained beside, as `eval` and
// `recard` both do: the card's data seed and limit win over the provenance's seed.
func TestTestSplitOf(t *testing.T) {
	f := &model.WeightsFile{Provenance: model.Provenance{Dataset: data.FashionMNIST, AnomalyClass: "Sandal", Seed: 4}}
	o, err := TestSplitOf(f, nil, "")
	if err != nil || o.Dataset != data.FashionMNIST || o.AnomalyClass != 5 || o.Seed != 4 || o.MaxTest != 0 {
		t.Errorf("without a card: %+v %v", o, err)
	}
	o, err = TestSplitOf(f, &CardTraining{DataSeed: 9, MaxTest: 300}, "")
	if err != nil || o.Seed != 9 || o.MaxTest != 300 || o.AnomalyClass != 5 {
		t.Errorf("with a card: %+v %v", o, err)
	}
	for _, p := range []model.Provenance{{Dataset: data.MNIST, AnomalyClass: "Sandal"}, {Dataset: "folder:screws"}, {}} {
		if _, err := TestSplitOf(&model.WeightsFile{Provenance: p}, nil, ""); err == nil {
			t.Errorf("%+v: accepted", p)
		}
	}
	if o, err := TestSplitOf(&model.WeightsFile{Provenance: model.Provenance{Dataset: "folder:screws"}}, nil, "/data/screws"); err != nil || o.Dataset != data.Folder || o.Dir != "/data/screws" {
		t.Errorf("folder: %+v %v", o, err)
	}
}

// TestTrainOnNormalsAlone trains on a folder of normal images with no known anomalies
// (what a user with only good parts has): the model is selected and calibrated on
// validation normals, has no test figures, and says so; the paper protocol, which
// selects on the test AUC, refuses such a folder.
func TestTrainOnNormalsAlone(t *testing.T) {
	digits, err := data.Load(data.Options{Dataset: data.MNIST, AnomalyClass: 2, Seed: 1, MaxTrain: 200, MaxTest: 2, Size: 16, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	files := fstest.MapFS{}
	for i := range digits.Train.N {
		b, err := imageio.EncodePNG(imageio.Image(digits.Train.Image(i), 16, 1))
		if err != nil {
			t.Fatal(err)
		}
		files[fmt.Sprintf("train/0.normal/%03d.png", i)] = &fstest.MapFile{Data: b}
	}
	o := tiny()
	o.Data = data.Options{Dataset: data.Folder, Files: files, Seed: 1}
	o.Epochs = 1
	var done Event
	res, err := Run(context.Background(), o, func(e Event) {
		if e.Kind == EventDone {
			done = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	cal := res.Weights.Calibration
	if res.Tested || res.Test.AUC != 0 || res.Scores != nil || !cal.Calibrated() || cal.Samples != res.ValidationImages || res.ValidationImages < 2 {
		t.Errorf("tested %v, AUC %v, calibration %+v on %d validation images", res.Tested, res.Test.AUC, cal, res.ValidationImages)
	}
	if !strings.Contains(done.Message, "no known anomalies") || res.Weights.Provenance.AnomalyClass != "" {
		t.Errorf("done: %q; anomaly class %q", done.Message, res.Weights.Provenance.AnomalyClass)
	}
	c, err := NewModelCard(res, "m.safetensors")
	if err != nil || c.HasTest() || !strings.Contains(c.Summary, "no test figures") {
		t.Errorf("card: %v, has test %v, summary %q", err, c != nil && c.HasTest(), c.Summary)
	}
	o.Protocol = Paper
	if _, err := Run(context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), "paper protocol") {
		t.Errorf("paper protocol without anomalies: %v", err)
	}
}

// TestWatchedAnomalies: with anomalies set aside to watch training by, every epoch
// event says how they and the validation normals separate; the model is still
// selected and calibrated on normals, and the test split is rebuilt from the card.
func TestWatchedAnomalies(t *testing.T) {
	o := tiny()
	o.Data.WatchFraction = 0.2
	var epochs []Event
	res, err := Run(context.Background(), o, func(e Event) {
		if e.Kind == EventEpoch {
			epochs = append(epochs, e)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != o.Epochs || res.WatchImages < 10 {
		t.Fatalf("%d epoch events, %d watched anomalies", len(epochs), res.WatchImages)
	}
	for _, e := range epochs {
		w := e.Figures.Watch
		if w == nil || !(w.AUC >= 0 && w.AUC <= 1) || len(w.ROC) < 2 || w.Histograms.Threshold <= 0 {
			t.Fatalf("epoch %d: watch figures %+v", e.Epoch, w)
		}
		if n, a := w.Histograms.Normal.Total(), w.Histograms.Anomalous.Total(); n != res.ValidationImages || a != res.WatchImages {
			t.Errorf("epoch %d: histograms of %d normal and %d anomalous scores, want %d and %d", e.Epoch, n, a, res.ValidationImages, res.WatchImages)
		}
		t.Logf("epoch %d: validation normals vs watched anomalies, AUC %.3f", e.Epoch, w.AUC)
	}
	// The watched anomalies are not in the test, which the card's split rebuilds.
	c, err := NewModelCard(res, "m.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	do, err := TestSplitOf(res.Weights, &c.Training, "")
	if err != nil {
		t.Fatal(err)
	}
	split, err := data.Load(do)
	if err != nil {
		t.Fatal(err)
	}
	if split.Test.N != res.TestImages || setLen(split.Watch) != res.WatchImages {
		t.Errorf("rebuilt test split: %d images (%d watched), the run had %d (%d)", split.Test.N, setLen(split.Watch), res.TestImages, res.WatchImages)
	}
}
