package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// tiny is a run of a second or so per epoch: 16×16 MNIST, ngf 8, nz 16, 400 train
// normals in batches of 32, 200 test images.
func tiny() Options {
	o := DefaultOptions()
	o.Config = model.Config{ImageSize: 16, Channels: 1, Latent: 16, Width: 8}
	o.Data = data.Options{Dataset: data.MNIST, AnomalyClass: 2, Seed: 1, MaxTrain: 400, MaxTest: 200}
	o.Epochs, o.BatchSize, o.Device, o.LogEvery = 2, 32, "cpu", 0
	o.Engine = EngineGo // the other engines test themselves with it (server/internal/torchengine)
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

// TestResumeContinuesExactly trains 2 epochs in one go and 1 + 1 with a resume in
// between: the checkpoint holds G, D, both Adam states, the step counts and the best
// model, and the batch order is a function of (seed, epoch), so both runs end equal.
func TestResumeContinuesExactly(t *testing.T) {
	ctx := context.Background()
	whole := tiny()
	whole.CheckpointDir = t.TempDir()
	resA, err := Run(ctx, whole, nil)
	if err != nil {
		t.Fatal(err)
	}

	first := tiny()
	first.Epochs = 1
	first.CheckpointDir = t.TempDir()
	if _, err := Run(ctx, first, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(first.CheckpointDir, CheckpointName)); err != nil {
		t.Fatalf("no checkpoint after epoch 1: %v", err)
	}
	second := first
	second.Epochs, second.Resume = 2, true
	var events []Event
	resB, err := Run(ctx, second, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(events); count(got, EventEpoch) != 1 || events[0].Epoch != 1 {
		t.Errorf("resumed run: events %v (start at epoch %d), want it to train epoch 2 only", got, events[0].Epoch)
	}
	if resB.Iterations != resA.Iterations || len(resB.History) != 2 || resB.BestEpoch != resA.BestEpoch {
		t.Errorf("resumed run: %d steps, %d epochs in history, best %d; uninterrupted: %d steps, best %d",
			resB.Iterations, len(resB.History), resB.BestEpoch, resA.Iterations, resA.BestEpoch)
	}
	d := maxDiff(t, resA.Weights.Tensors, resB.Weights.Tensors)
	t.Logf("uninterrupted vs resumed: max weight difference %.3g; test AUC %.4f vs %.4f", d, resA.Test.AUC, resB.Test.AUC)
	// The pure-Go engine sums in a fixed order: resuming must not change a bit.
	if d != 0 {
		t.Errorf("resumed weights differ from the uninterrupted run's by %.3g", d)
	}

	// Other settings, or no checkpoint, are refused with a clear message.
	other := second
	other.Seed = 7
	if _, err := Run(ctx, other, nil); err == nil || !strings.Contains(err.Error(), "Seed") {
		t.Errorf("resume with another seed: %v", err)
	}
	none := tiny()
	none.CheckpointDir, none.Resume = t.TempDir(), true
	if _, err := Run(ctx, none, nil); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("resume without a checkpoint: %v", err)
	}
}

// TestCancel stops a run between steps.
func TestCancel(t *testing.T) {
	o := tiny()
	o.LogEvery = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	steps := 0
	_, err := Run(ctx, o, func(e Event) {
		if e.Kind == EventStep {
			steps++
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || steps != 1 {
		t.Errorf("after cancelling at the first step: %d steps, error %v", steps, err)
	}
}

// TestPaperProtocol checks that a paper-protocol run says so everywhere and exports
// a model calibrated the official way.
func TestPaperProtocol(t *testing.T) {
	o := tiny()
	o.Protocol = Paper
	var events []Event
	res, err := Run(context.Background(), o, func(e Event) { events = append(events, e) })
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Label != PaperLabel {
			t.Errorf("%s event without the paper label", e.Kind)
		}
		if e.Kind == EventEpoch && !(e.Figures.TestAUC > 0) {
			t.Errorf("epoch event without a test AUC: %+v", e)
		}
	}
	if res.Label != PaperLabel || res.ValidationImages != 0 || res.Exported == nil {
		t.Errorf("label %q, %d validation images, exported report %v", res.Label, res.ValidationImages, res.Exported)
	}
	if res.Test.Threshold != PaperThreshold {
		t.Errorf("F1 threshold %v, want %v", res.Test.Threshold, PaperThreshold)
	}
	for _, s := range res.Scores {
		if s < 0 || s > 1 {
			t.Fatalf("paper scores must be min–max scaled into [0, 1], got %v", s)
		}
	}
	w := res.Weights
	if !strings.Contains(w.Calibration.Method, PaperLabel) || !strings.Contains(w.Provenance.Notes, PaperLabel) || w.Provenance.Protocol != Paper {
		t.Errorf("weights do not carry the paper label: %+v %+v", w.Calibration, w.Provenance)
	}
	card, err := NewModelCard(res, "x.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if card.Label != PaperLabel || card.ExportedTest == nil {
		t.Errorf("card label %q exported %v", card.Label, card.ExportedTest)
	}
	t.Logf("paper protocol: best epoch %d, test AUC %.4f (train-mode BN, official); exported model (eval mode) AUC %.4f",
		res.BestEpoch, res.Test.AUC, res.Exported.AUC)
}

// TestEvaluateMatchesRun evaluates the exported weights on the same split as training,
// with the pure-Go model: the honest run's final test report (scored by the engine's own
// forward pass) must come out again, up to a few near-ties ranked the other way by
// float rounding.
func TestEvaluateMatchesRun(t *testing.T) {
	o := tiny()
	o.Epochs = 1
	res, err := Run(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Evaluate(context.Background(), res.Weights, EvalOptions{Data: o.Data, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	normal, anomalous := 0, 0
	for _, l := range ev.Labels {
		if l {
			anomalous++
		} else {
			normal++
		}
	}
	if tol := 3 / float64(normal*anomalous); math.Abs(ev.Report.AUC-res.Test.AUC) > tol || ev.Report.Threshold != res.Test.Threshold {
		t.Errorf("Evaluate: AUC %v threshold %v; the run reported AUC %v threshold %v", ev.Report.AUC, ev.Report.Threshold, res.Test.AUC, res.Test.Threshold)
	}
}

// memStore is a CheckpointStore in memory, as the browser keeps one in its storage.
type memStore struct{ f *safetensors.File }

func (m *memStore) Save(f *safetensors.File) error { m.f = f; return nil }
func (m *memStore) Load() (*safetensors.File, error) {
	if m.f == nil {
		return nil, ErrNoCheckpoint
	}
	return m.f, nil
}

// TestResumeFromStore resumes from a CheckpointStore as from a folder: exactly.
func TestResumeFromStore(t *testing.T) {
	ctx := context.Background()
	whole, err := Run(ctx, tiny(), nil)
	if err != nil {
		t.Fatal(err)
	}
	store := &memStore{}
	first := tiny()
	first.Epochs, first.Checkpoints = 1, store
	if _, err := Run(ctx, first, nil); err != nil {
		t.Fatal(err)
	}
	if store.f == nil || store.f.Metadata["format"] != CheckpointFormat {
		t.Fatal("no checkpoint in the store after epoch 1")
	}
	second := first
	second.Epochs, second.Resume = 2, true
	res, err := Run(ctx, second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(t, whole.Weights.Tensors, res.Weights.Tensors); d != 0 {
		t.Errorf("resumed from the store: weights differ by %.3g from the uninterrupted run's", d)
	}
	none := tiny()
	none.Checkpoints, none.Resume = &memStore{}, true
	if _, err := Run(ctx, none, nil); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("resume from an empty store: %v", err)
	}
}

// TestEpochSamples: with Options.Samples, every epoch event carries the reconstructions
// of the same first validation images, as PNG files of the model's size.
func TestEpochSamples(t *testing.T) {
	o := tiny()
	o.Samples = 3
	var epochs []Event
	if _, err := Run(context.Background(), o, func(e Event) {
		if e.Kind == EventEpoch {
			epochs = append(epochs, e)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 2 {
		t.Fatalf("%d epoch events", len(epochs))
	}
	for _, e := range epochs {
		if len(e.Figures.Samples) != 3 {
			t.Fatalf("epoch %d: %d samples, want 3", e.Epoch, len(e.Figures.Samples))
		}
		for _, s := range e.Figures.Samples {
			for _, b := range [][]byte{s.Input, s.Reconstruction} {
				img, err := png.Decode(bytes.NewReader(b))
				if err != nil || img.Bounds().Dx() != 16 || img.Bounds().Dy() != 16 {
					t.Fatalf("epoch %d: a sample is not a 16×16 PNG (%v)", e.Epoch, err)
				}
			}
		}
	}
	if !bytes.Equal(epochs[0].Figures.Samples[0].Input, epochs[1].Figures.Samples[0].Input) || bytes.Equal(epochs[0].Figures.Samples[0].Reconstruction, epochs[1].Figures.Samples[0].Reconstruction) {
		t.Error("the samples must be the same images every epoch, reconstructed by each epoch's model")
	}
	o.Samples = MaxSamples + 1
	if err := o.Validate(); err == nil {
		t.Errorf("%d samples accepted", o.Samples)
	}
}

// TestOldCheckpointHistory: a checkpoint written before the event schema moved to
// package progress kept each epoch's figures as fields of the event; they are read
// into Figures, so a resumed run's card keeps its whole history.
func TestOldCheckpointHistory(t *testing.T) {
	state := []byte(`{"epoch":2,"history":[
		{"kind":"epoch","epoch":1,"val_loss":0.31,"val_score":0.02,"best":true,"samples":[{"input":"aW4=","reconstruction":"b3V0"}]},
		{"kind":"epoch","epoch":2,"test_auc":0.9,"eta_ns":5000000000}]}`)
	var st runState
	if err := json.Unmarshal(state, &st); err != nil {
		t.Fatal(err)
	}
	upgradeHistory(state, st.History)
	a, b := st.History[0].Figures, st.History[1].Figures
	if a == nil || a.Epoch != 1 || a.ValLoss != 0.31 || a.ValScore != 0.02 || !a.Best || len(a.Samples) != 1 || string(a.Samples[0].Reconstruction) != "out" {
		t.Errorf("epoch 1: %+v", a)
	}
	if b == nil || b.TestAUC != 0.9 || b.Best || st.History[1].TestAUC != 0 {
		t.Errorf("epoch 2: %+v, event test AUC %v", b, st.History[1].TestAUC)
	}
}
