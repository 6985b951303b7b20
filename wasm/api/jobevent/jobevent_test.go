package jobevent

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

func TestFrom(t *testing.T) {
	l := train.Losses{Adv: 1, Con: 2, Enc: 3, G: 4, D: 5}
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	ev, ok := From(train.Event{Kind: train.EventStep, Time: at, Epoch: 2, Epochs: 3, Iteration: 40, Iterations: 126,
		Losses: &l, ImagesPerSecond: 150, ETASeconds: 90})
	if !ok || ev.Kind != api.EventStep || ev.ETASeconds != 90 || ev.ImagesPerSecond != 150 || *ev.Losses != l || ev.Time.Location() != time.UTC || !ev.Time.Equal(at) {
		t.Fatalf("step: %+v", ev)
	}
	l.G = 99 // the event keeps its own copy
	if ev.Losses.G != 4 {
		t.Fatal("the API event shares the run's losses")
	}
	ev, ok = From(train.Event{Kind: train.EventEpoch, Epoch: 1, Figures: &train.EpochFigures{Epoch: 1, ValLoss: 0.3, ValScore: 0.01, Best: true,
		Samples: []train.Sample{{Input: []byte("in"), Reconstruction: []byte("out")}}}})
	if f := ev.Figures; !ok || f == nil || f.Epoch != 1 || f.ValLoss != 0.3 || f.ValScore != 0.01 || !f.Best ||
		len(f.Samples) != 1 || string(f.Samples[0].Input) != "in" || string(f.Samples[0].Reconstruction) != "out" {
		t.Fatalf("epoch: %+v", ev)
	}
	if _, ok := From(train.Event{Kind: train.EventError, Message: "x"}); ok {
		t.Fatal("an error event went on the stream")
	}
}

// TestWireSchema: a job event on the wire is the trainer's event, flat, with the job's
// fields beside it, and reads back whole.
func TestWireSchema(t *testing.T) {
	l := train.Losses{G: 4, D: 5}
	ev, _ := From(train.Event{Kind: train.EventStep, Time: time.Unix(1e9, 0), Epoch: 2, Iteration: 40, Iterations: 126,
		Losses: &l, ETASeconds: 90, Message: "m"})
	ev.Seq, ev.State = 7, api.JobRunning
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"seq":7`, `"kind":"step"`, `"eta_seconds":90`, `"iteration":40`, `"losses":{`, `"state":"running"`, `"message":"m"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("%s lacks %s", b, key)
		}
	}
	var back api.JobEvent
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, ev) {
		t.Errorf("read back %+v (%v), want %+v", back, err, ev)
	}
}
