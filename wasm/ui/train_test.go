package ui

import (
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/model/progress"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

func step(seq, it int, con float64) api.JobEvent {
	return api.JobEvent{Seq: seq, Event: progress.Event{Kind: api.EventStep, Iteration: it, Iterations: 20, Epoch: 1, Epochs: 2,
		Losses: &api.Losses{Adv: 0.4, Con: con, Enc: 0.04, D: 0.7}}}
}

// TestTrainTraceReplays: a reconnect replays events the page has seen (duplicates are
// skipped), and a resumed run that restarts after epoch 1 trims the curve it redraws.
func TestTrainTraceReplays(t *testing.T) {
	var tr trainTrace
	evs := []api.JobEvent{
		{Seq: 1, Event: progress.Event{Kind: api.EventState}, State: api.JobQueued},
		{Seq: 2, Event: progress.Event{Kind: api.EventState}, State: api.JobRunning},
		{Seq: 3, Event: progress.Event{Kind: api.EventStart, Epochs: 2, Iterations: 20}},
		step(4, 5, 0.9), step(5, 10, 0.8),
		{Seq: 6, Event: progress.Event{Kind: api.EventEpoch, Epoch: 1, Epochs: 2, Iteration: 10, Figures: &api.EpochFigures{Epoch: 1, ValLoss: 0.5, Best: true}}},
		step(7, 15, 0.7),
	}
	for _, e := range evs {
		tr.apply(e)
	}
	// The connection drops and EventSource replays from Last-Event-ID, or a fresh
	// stream replays some seen events: nothing is drawn twice.
	for _, e := range evs[3:] {
		if tr.apply(e) {
			t.Errorf("event %d applied twice", e.Seq)
		}
	}
	if got := len(tr.curve(trainSeries[1].Value)); got != 3 || tr.Progress.Iteration != 15 || tr.State != api.JobRunning {
		t.Fatalf("after the replay: %d points, step %d, %s", got, tr.Progress.Iteration, tr.State)
	}
	// Interrupted after epoch 1 (step 10), then resumed: the run starts at step 10.
	for _, e := range []api.JobEvent{
		{Seq: 8, Event: progress.Event{Kind: api.EventEnd}, State: api.JobInterrupted, Error: "stopped"},
		{Seq: 9, Event: progress.Event{Kind: api.EventState}, State: api.JobQueued},
		{Seq: 10, Event: progress.Event{Kind: api.EventStart, Epoch: 1, Epochs: 2, Iteration: 10, Iterations: 20}},
	} {
		tr.apply(e)
	}
	if got := tr.curve(trainSeries[1].Value); len(got) != 2 || got[1].X != 10 || tr.Ended || tr.Progress.Epoch != 2 || len(tr.Epochs) != 1 {
		t.Errorf("after the resume: points %v, ended %v, epoch %d", got, tr.Ended, tr.Progress.Epoch)
	}
	tr.apply(api.JobEvent{Seq: 11, Event: progress.Event{Kind: api.EventEnd, TestAUC: 0.8}, State: api.JobSucceeded, Model: "mnist-2-ab"})
	if !tr.Ended || tr.Model != "mnist-2-ab" || tr.State != api.JobSucceeded {
		t.Errorf("end: %+v", tr)
	}
}

func TestTrainPolyline(t *testing.T) {
	pts := []trainPoint{{0, 1}, {5, 3}, {10, 2}}
	lo, hi := trainRange(pts)
	if got := trainPolyline(pts, 10, lo, hi); got != "4.0,86.0 150.0,4.0 296.0,45.0" {
		t.Errorf("polyline %q", got)
	}
	if got := trainPolyline([]trainPoint{{1, 5}}, 2, 5, 5); got != "150.0,45.0" {
		t.Errorf("flat polyline %q", got)
	}
}

// The server prerenders the page; the live view renders from a trace alone.
func TestTrainPageRenders(t *testing.T) {
	html := render(t, &trainPage{})
	if !strings.Contains(html, `id="train-page"`) || !strings.Contains(html, `data-avail="checking"`) {
		t.Errorf("prerendered page:\n%s", html)
	}
	p := &trainPage{avail: trainReady, limits: api.JobLimits{Datasets: []string{"mnist"}, Protocols: []string{"honest"}, ImageSizes: []int{16, 32}, MaxEpochs: 50},
		fieldErr: map[string]string{"epochs": "epochs 500: this server trains at most 50 epochs per job"}}
	p.trace.JobID = "ab12"
	for _, e := range []api.JobEvent{{Seq: 1, Event: progress.Event{Kind: api.EventState}, State: api.JobRunning}, step(2, 1, 0.9), step(3, 2, 0.8)} {
		p.trace.apply(e)
	}
	html = render(t, p)
	for _, want := range []string{`id="error-epochs"`, "at most 50 epochs", `data-points="2"`, `id="chart-con"`, `<polyline`, `id="cancel-job"`, `data-state="running"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestWatchChartsRender: an epoch that watched known anomalies draws their histogram
// beside the validation normals', the ROC curve and its AUC, and the epochs table
// gains the column; the table keeps only the AUC of each epoch.
func TestWatchChartsRender(t *testing.T) {
	scores := []float64{0.1, 0.2, 0.25, 0.3, 0.5, 0.9, 1.2}
	labels := []bool{false, false, false, false, true, true, true}
	h, roc, err := card.Separate(scores, labels, 0.3, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	p := &trainPage{avail: trainReady}
	p.trace.JobID = "ab12"
	p.trace.apply(api.JobEvent{Seq: 1, Event: progress.Event{Kind: api.EventEpoch, Epoch: 1, Epochs: 2, Iteration: 10,
		Figures: &api.EpochFigures{Epoch: 1, ValLoss: 0.5, Watch: &api.Separation{AUC: 0.75, Histograms: h, ROC: roc}}}})
	if w := p.trace.Epochs[0].Watch; w == nil || w.AUC != 0.75 || len(w.ROC) != 0 {
		t.Errorf("the epochs table keeps %+v", w)
	}
	html := render(t, p)
	for _, want := range []string{`id="train-watch"`, `data-auc="0.7500"`, `id="watch-hist"`, `id="watch-roc"`, "AUC, watched anomalies", "<td>0.750</td>", "choose nothing"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}
