package weights

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
)

// The embedded files must be what the server can offer: a valid weights file and a
// model card for it.
func TestDefault(t *testing.T) {
	raw, cardJSON := Default()
	f, err := model.ReadWeights(raw)
	if err != nil {
		t.Fatalf("weights/default.safetensors: %v (retrain it with `make default-model`)", err)
	}
	if _, err := model.NewDetector(f); err != nil {
		t.Fatalf("weights/default.safetensors: %v", err)
	}
	var card struct {
		Weights     string            `json:"weights"`
		Config      model.Config      `json:"config"`
		Calibration model.Calibration `json:"calibration"`
	}
	if err := json.Unmarshal(cardJSON, &card); err != nil {
		t.Fatalf("weights/default.json: %v", err)
	}
	if card.Weights != "default.safetensors" || card.Config != f.Config || card.Calibration != f.Calibration {
		t.Errorf("weights/default.json does not describe default.safetensors: card %+v, file config %+v calibration %+v",
			card, f.Config, f.Calibration)
	}
	t.Logf("default model: %d bytes, config %+v, provenance %+v", len(raw), f.Config, f.Provenance)
}

// TestDefaultDetects scores real MNIST test digits with the pure-Go path the browser
// uses and checks that the default model tells its anomaly class from the other digits
// clearly better than chance, and that its calibrated verdicts do so too. The images
// are the model's own test split (its class and data seed), which training
// never saw.
func TestDefaultDetects(t *testing.T) {
	raw, cardJSON := Default()
	var card struct {
		Training struct {
			DataSeed int64 `json:"data_seed"`
		} `json:"training"`
	}
	if err := json.Unmarshal(cardJSON, &card); err != nil {
		t.Fatal(err)
	}
	d, err := model.LoadDetector(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := d.File.Provenance
	class, err := strconv.Atoi(p.AnomalyClass)
	if p.Dataset != "mnist" || err != nil {
		t.Fatalf("the default model should be an MNIST model, provenance says %+v", p)
	}
	split, err := data.Load(data.Options{Dataset: "mnist", AnomalyClass: class, Seed: card.Training.DataSeed,
		Size: d.Config().ImageSize, MaxTest: 2000})
	if err != nil {
		t.Fatal(err)
	}
	test := split.Test
	results, err := d.Score(nil, test.Images, test.N)
	if err != nil {
		t.Fatal(err)
	}
	scores := make([]float64, len(results))
	var tp, fp, pos, neg int
	for i, r := range results {
		scores[i] = r.Raw
		if test.Labels[i] {
			pos++
			if r.Anomalous {
				tp++
			}
		} else {
			neg++
			if r.Anomalous {
				fp++
			}
		}
	}
	auc, err := metrics.AUC(scores, test.Labels)
	if err != nil {
		t.Fatal(err)
	}
	tpr, fpr := float64(tp)/float64(pos), float64(fp)/float64(neg)
	t.Logf("%d normal and %d anomalous test digits: AUC %.3f (card: %.3f), at the calibrated threshold TPR %.3f FPR %.3f",
		neg, pos, auc, p.TestAUC, tpr, fpr)
	if auc < 0.85 {
		t.Errorf("AUC %.3f on the default model's test digits; it was trained to about %.3f", auc, p.TestAUC)
	}
	if tpr < 2*fpr || fpr > 0.2 {
		t.Errorf("calibrated verdicts barely separate: TPR %.3f, FPR %.3f", tpr, fpr)
	}
}
