// Package jobevent hands a training run's events (model/train, whose schema is
// model/progress's) to the jobs API (wasm/api): one rule for the server's jobs and the
// browser's own training, so that both draw the same dashboard from the same stream.
package jobevent

import (
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// From returns the API event for a run's event, without its sequence number; ok is
// false for kinds the stream does not carry (a run's error reaches the stream as the
// job's end, with the state that explains it). The event is carried as it is, its
// time in UTC and its losses copied (the trainer may reuse them).
func From(e train.Event) (ev api.JobEvent, ok bool) {
	switch e.Kind {
	case train.EventStart, train.EventStep, train.EventEpoch, train.EventDone:
	default:
		return ev, false
	}
	if !e.Time.IsZero() {
		e.Time = e.Time.UTC()
	}
	if e.Losses != nil {
		l := *e.Losses
		e.Losses = &l
	}
	return api.JobEvent{Event: e}, true
}
