// Package jobevent turns a training run's events (model/train) into the jobs API's
// (wasm/api): one conversion for the server's jobs and the browser's own training, so
// that both draw the same dashboard from the same stream.
package jobevent

import (
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// From returns the API event for a run's event, without its sequence number; ok is
// false for kinds the stream does not carry (a run's error reaches the stream as the
// job's end, with the state that explains it).
func From(e train.Event) (ev api.JobEvent, ok bool) {
	ev = api.JobEvent{Epoch: e.Epoch, Epochs: e.Epochs, Iteration: e.Iteration, Iterations: e.Iterations, Message: e.Message}
	if !e.Time.IsZero() {
		ev.Time = e.Time.UTC()
	}
	switch e.Kind {
	case train.EventStart:
		ev.Kind = api.EventStart
	case train.EventStep:
		ev.Kind = api.EventStep
		ev.ImagesPerSecond, ev.ETASeconds = e.ImagesPerSecond, e.ETA.Seconds()
		if e.Losses != nil {
			l := *e.Losses
			ev.Losses = &l
		}
	case train.EventEpoch:
		ev.Kind = api.EventEpoch
		ev.Figures = &api.EpochFigures{Epoch: e.Epoch, ValLoss: e.ValLoss, ValScore: e.ValScore, TestAUC: e.TestAUC, Best: e.Best}
		for _, s := range e.Samples {
			ev.Figures.Samples = append(ev.Figures.Samples, api.Sample{Input: s.Input, Reconstruction: s.Reconstruction})
		}
	case train.EventDone:
		ev.Kind = api.EventDone
		ev.TestAUC = e.TestAUC
	default:
		return ev, false
	}
	return ev, true
}
