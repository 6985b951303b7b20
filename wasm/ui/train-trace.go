package ui

import (
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// trainStep is one logged training step: its number over the whole job and its losses.
type trainStep struct {
	Iteration int
	Losses    api.Losses
}

// trainTrace is what the training dashboard knows of one job, built from its event
// stream alone, so that a reconnect (which replays the events after the last one seen)
// and a page opened in the middle of a job (which replays them all) draw the same
// curves as a page that watched from the start.
type trainTrace struct {
	JobID string
	// Last is the sequence number of the last event applied: the stream's replay
	// starts after it, and an event at or below it is a duplicate.
	Last     int
	Steps    []trainStep
	Epochs   []api.EpochFigures
	Progress api.JobProgress
	State    api.JobState
	Message  string
	Error    string
	Model    string
	TestAUC  float64
	// Samples are the latest epoch's reconstructions of a few fixed images, and
	// SamplesEpoch that epoch.
	Samples      []api.Sample
	SamplesEpoch int
	// Watch is the latest epoch's separation of validation normals and watched
	// anomalies, and WatchEpoch that epoch.
	Watch      *api.Separation
	WatchEpoch int
	// Ended is set by the end event: the stream is over.
	Ended bool
}

// apply adds one event; it reports false for a duplicate (already applied).
func (t *trainTrace) apply(ev api.JobEvent) bool {
	if ev.Seq <= t.Last {
		return false
	}
	t.Last = ev.Seq
	p := &t.Progress
	if ev.Epochs > 0 {
		p.Epochs = ev.Epochs
	}
	if ev.Iterations > 0 {
		p.Iterations = ev.Iterations
	}
	switch ev.Kind {
	case api.EventState:
		t.State, t.Message, t.Ended = ev.State, ev.Message, false
		t.Error = ""
	case api.EventStart:
		t.State, t.Message = api.JobRunning, ev.Message
		// A run that starts afresh, or resumes after epoch k, redoes what followed:
		// keep only the points it will not draw again.
		n := 0
		for _, s := range t.Steps {
			if s.Iteration <= ev.Iteration {
				t.Steps[n] = s
				n++
			}
		}
		t.Steps = t.Steps[:n]
		e := 0
		for _, f := range t.Epochs {
			if f.Epoch <= ev.Epoch {
				t.Epochs[e] = f
				e++
			}
		}
		t.Epochs = t.Epochs[:e]
		p.Iteration, p.Epoch = ev.Iteration, min(ev.Epoch+1, max(p.Epochs, 1))
	case api.EventStep:
		if ev.Losses != nil {
			t.Steps = append(t.Steps, trainStep{Iteration: ev.Iteration, Losses: *ev.Losses})
			p.Losses = ev.Losses
		}
		p.Iteration, p.Epoch = ev.Iteration, ev.Epoch
		p.ImagesPerSecond, p.ETASeconds = ev.ImagesPerSecond, ev.ETASeconds
	case api.EventEpoch:
		if f := ev.Figures; f != nil {
			if len(f.Samples) > 0 {
				t.Samples, t.SamplesEpoch = f.Samples, f.Epoch
			}
			if f.Watch != nil {
				t.Watch, t.WatchEpoch = f.Watch, f.Epoch
			}
			g := *f
			g.Samples = nil // kept once, above
			if g.Watch != nil {
				g.Watch = &api.Separation{AUC: g.Watch.AUC} // the table's figure; the charts are above
			}
			f = &g
			kept := t.Epochs[:0]
			for _, g := range t.Epochs {
				if g.Epoch < f.Epoch {
					kept = append(kept, g)
				}
			}
			t.Epochs = append(kept, *f)
		}
		p.Iteration = ev.Iteration
		p.Epoch = min(ev.Epoch+1, max(p.Epochs, 1))
	case api.EventDone:
		p.Iteration, p.ETASeconds = ev.Iteration, 0
		t.TestAUC, t.Message = ev.TestAUC, ev.Message
	case api.EventEnd:
		t.State, t.Error, t.Model, t.Ended = ev.State, ev.Error, ev.Model, true
		if ev.TestAUC > 0 {
			t.TestAUC = ev.TestAUC
		}
		p.ETASeconds = 0
	}
	return true
}

// trainSeries are the curves the dashboard draws, one chart each: G's three terms and
// D's loss, whose scales differ by orders of magnitude (so no shared axis).
var trainSeries = []struct {
	Key, Label string
	Value      func(api.Losses) float64
}{
	{"adv", "adversarial (feature matching)", func(l api.Losses) float64 { return l.Adv }},
	{"con", "contextual |x̂ − x|", func(l api.Losses) float64 { return l.Con }},
	{"enc", "encoder (z − ẑ)²", func(l api.Losses) float64 { return l.Enc }},
	{"d", "discriminator", func(l api.Losses) float64 { return l.D }},
}

// trainPoint is a point of a curve: a step and a loss.
type trainPoint struct {
	X int
	Y float64
}

// curve is one series of the trace's steps.
func (t *trainTrace) curve(value func(api.Losses) float64) []trainPoint {
	out := make([]trainPoint, len(t.Steps))
	for i, s := range t.Steps {
		out[i] = trainPoint{X: s.Iteration, Y: value(s.Losses)}
	}
	return out
}
