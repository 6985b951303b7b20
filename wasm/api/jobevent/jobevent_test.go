package jobevent

import (
	"testing"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

func TestFrom(t *testing.T) {
	l := train.Losses{Adv: 1, Con: 2, Enc: 3, G: 4, D: 5}
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	ev, ok := From(train.Event{Kind: train.EventStep, Time: at, Epoch: 2, Epochs: 3, Iteration: 40, Iterations: 126,
		Losses: &l, ImagesPerSecond: 150, ETA: 90 * time.Second})
	if !ok || ev.Kind != api.EventStep || ev.ETASeconds != 90 || ev.ImagesPerSecond != 150 || *ev.Losses != l || ev.Time.Location() != time.UTC || !ev.Time.Equal(at) {
		t.Fatalf("step: %+v", ev)
	}
	l.G = 99 // the event keeps its own copy
	if ev.Losses.G != 4 {
		t.Fatal("the API event shares the run's losses")
	}
	ev, ok = From(train.Event{Kind: train.EventEpoch, Epoch: 1, ValLoss: 0.3, ValScore: 0.01, Best: true,
		Samples: []train.Sample{{Input: []byte("in"), Reconstruction: []byte("out")}}})
	if f := ev.Figures; !ok || f == nil || f.Epoch != 1 || f.ValLoss != 0.3 || f.ValScore != 0.01 || !f.Best ||
		len(f.Samples) != 1 || string(f.Samples[0].Input) != "in" || string(f.Samples[0].Reconstruction) != "out" {
		t.Fatalf("epoch: %+v", ev)
	}
	if _, ok := From(train.Event{Kind: train.EventError, Message: "x"}); ok {
		t.Fatal("an error event went on the stream")
	}
}
