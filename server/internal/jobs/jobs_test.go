package jobs

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model/progress"
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/wasm/api/jobrequest"
)

func TestValidateNamesTheField(t *testing.T) {
	limits := DefaultLimits(train.EngineAuto, "cpu")
	if err := jobrequest.Validate(limits.Defaults, limits, "cpu"); err != nil {
		t.Fatalf("the defaults are refused: %v", err)
	}
	cases := []struct {
		change func(*api.JobRequest)
		field  string
		want   string
	}{
		{func(r *api.JobRequest) { r.Dataset = "cifar" }, "dataset", `unknown data set "cifar"`},
		{func(r *api.JobRequest) { r.Dataset = "folder" }, "dataset", "not offered"},
		{func(r *api.JobRequest) { r.AnomalyClass = -1 }, "anomaly_class", "anomaly class -1"},
		{func(r *api.JobRequest) { r.Epochs = 0 }, "epochs", "epochs 0: this server trains at least 1 and at most 50"},
		{func(r *api.JobRequest) { r.Epochs = MaxEpochs + 1 }, "epochs", "at most 50"},
		{func(r *api.JobRequest) { r.ImageSize = 20 }, "image_size", "image size 20: this server trains images of 16, 32 or 64"},
		{func(r *api.JobRequest) { r.ImageSize = 128 }, "image_size", "16, 32 or 64"},
		{func(r *api.JobRequest) { r.Protocol = "" }, "protocol", "no protocol"},
		{func(r *api.JobRequest) { r.Width = 66 }, "width", "at most 64"},
		{func(r *api.JobRequest) { r.BatchSize = 512 }, "batch_size", "at most 256"},
		{func(r *api.JobRequest) { r.MaxTrain = 70000 }, "max_train", "60000"},
		{func(r *api.JobRequest) { r.MaxTest = 1 }, "max_test", "MaxTest 1"},
	}
	for _, c := range cases {
		r := limits.Defaults
		c.change(&r)
		err := jobrequest.Validate(r, limits, "cpu")
		re, ok := jobrequest.IsRequestError(err)
		if !ok || re.Field != c.field || !strings.Contains(re.Message, c.want) {
			t.Errorf("%+v: got %v, want field %q and %q", r, err, c.field, c.want)
			continue
		}
		// The packages' prefixes mean nothing to someone filling a form.
		if strings.Contains(re.Message, "invalid options") || strings.Contains(re.Message, "invalid model config") {
			t.Errorf("message %q keeps a package prefix", re.Message)
		}
	}
}

// TestTrainOptionsAreTheCLIs checks that a request becomes the options the CLI builds
// from the same flags (the data split's seed following the run's seed), plus the
// reconstructions a dashboard shows after each epoch.
func TestTrainOptionsAreTheCLIs(t *testing.T) {
	req := api.JobRequest{Dataset: "fashion-mnist", AnomalyClass: 7, Epochs: 3, ImageSize: 16, Protocol: "paper",
		Width: 16, BatchSize: 32, MaxTrain: 500, MaxTest: 300, MaxIterations: 12, Seed: 4}
	o := jobrequest.TrainOptions(req, "cpu")
	want := train.DefaultOptions()
	want.Data.Dataset, want.Data.AnomalyClass, want.Data.Seed, want.Data.MaxTrain, want.Data.MaxTest = "fashion-mnist", 7, 4, 500, 300
	want.Config.ImageSize, want.Config.Width = 16, 16
	want.Epochs, want.Protocol, want.BatchSize, want.MaxIterations, want.Seed, want.Device = 3, "paper", 32, 12, 4, "cpu"
	want.Samples = jobrequest.DashboardSamples
	a, _ := json.Marshal(o)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("options\n%s\nwant\n%s", a, b)
	}
}

func TestLogEvery(t *testing.T) {
	o := train.DefaultOptions()
	o.Data.MaxTrain, o.BatchSize, o.Epochs = 256, 32, 2
	if n := logEvery(o); n != 1 {
		t.Errorf("tiny job logs every %d steps, want every step", n)
	}
	o.Data.MaxTrain, o.BatchSize, o.Epochs = 0, 16, 50 // 18750 steps
	if n := logEvery(o); o.Epochs*(6000/16)/n > maxStepEvents*2 {
		t.Errorf("long job logs every %d steps: too many events", n)
	}
}

// TestReadEventsDropsACutLine: a crash may cut the last line of events.jsonl short; the
// events before it are kept, and the file is trimmed so that the next event starts a
// line of its own.
func TestReadEventsDropsACutLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), eventsFile)
	for i := 1; i <= 3; i++ {
		if err := appendLine(path, api.JobEvent{Seq: i, Event: progress.Event{Kind: api.EventStep}}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"seq":4,"kind":"st`)
	f.Close()
	evs, err := readEvents(path)
	if err != nil || len(evs) != 3 || evs[2].Seq != 3 {
		t.Fatalf("read %d events (%v), want 3", len(evs), err)
	}
	appendLine(path, api.JobEvent{Seq: 4, Event: progress.Event{Kind: api.EventEnd}})
	if evs, _ = readEvents(path); len(evs) != 4 || evs[3].Kind != api.EventEnd {
		t.Errorf("after appending: %d events", len(evs))
	}
}

func TestOpenRefusesABadDevice(t *testing.T) {
	if _, err := Open(Options{ModelsDir: t.TempDir(), Device: "tpu"}); err == nil || !strings.Contains(err.Error(), `device "tpu"`) {
		t.Errorf("device tpu: %v", err)
	}
	if _, err := Open(Options{}); err == nil {
		t.Error("no models folder: accepted")
	}
	// This test binary does not link libtorch: asking for it is refused at start, and
	// the pure-Go engine runs on the CPU only.
	if _, err := Open(Options{ModelsDir: t.TempDir(), Engine: train.EngineTorch}); err == nil || !strings.Contains(err.Error(), "has no libtorch") {
		t.Errorf("libtorch engine without libtorch: %v", err)
	}
	if _, err := Open(Options{ModelsDir: t.TempDir(), Engine: train.EngineGo, Device: "cuda"}); err == nil || !strings.Contains(err.Error(), "CPU only") {
		t.Errorf("go engine on cuda: %v", err)
	}
	m, err := Open(Options{ModelsDir: t.TempDir(), Engine: train.EngineGo, Device: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(t.Context())
	if l := m.Limits(); !strings.HasSuffix(l.DeviceName, "· pure Go") {
		t.Errorf("go engine's device line %q", l.DeviceName)
	}
}

// TestOpenAfterACrash: a server that died without stopping its jobs left one running
// and one queued; the next start lists both as interrupted, each with an end event
// after the events it had, and keeps finished jobs as they were.
func TestOpenAfterACrash(t *testing.T) {
	models := t.TempDir()
	write := func(id string, state api.JobState, events int) {
		dir := filepath.Join(models, JobsFolder, id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(api.Job{ID: id, State: state, Request: DefaultLimits(train.EngineAuto, "cpu").Defaults})
		os.WriteFile(filepath.Join(dir, jobFile), b, 0o644)
		for i := 1; i <= events; i++ {
			appendLine(filepath.Join(dir, eventsFile), api.JobEvent{Seq: i, Event: progress.Event{Kind: api.EventState}})
		}
	}
	write("aaaa0001", api.JobRunning, 5)
	write("aaaa0002", api.JobQueued, 1)
	write("aaaa0003", api.JobSucceeded, 3)
	os.MkdirAll(filepath.Join(models, JobsFolder, "junk"), 0o755) // no job.json: skipped
	m, err := Open(Options{ModelsDir: models, Device: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(t.Context())
	for id, want := range map[string]struct {
		state api.JobState
		last  int
	}{"aaaa0001": {api.JobInterrupted, 6}, "aaaa0002": {api.JobInterrupted, 2}, "aaaa0003": {api.JobSucceeded, 3}} {
		j, err := m.Get(id)
		if err != nil || j.State != want.state || j.LastEvent != want.last || j.Resumable != (want.state == api.JobInterrupted) || j.Checkpoint {
			t.Errorf("%s: %+v %v; want %s, last event %d", id, j, err, want.state, want.last)
		}
		evs, _, ended, _ := m.Events(id, 0)
		if len(evs) != want.last || !ended || (want.state == api.JobInterrupted && !evs[len(evs)-1].Final()) {
			t.Errorf("%s: %d events, ended %v", id, len(evs), ended)
		}
	}
	if n := len(m.List()); n != 3 {
		t.Errorf("%d jobs listed, want 3", n)
	}
	// A finished job is not resumed; an interrupted one is, once.
	if _, err := m.Resume("aaaa0003"); !errors.Is(err, ErrConflict) {
		t.Errorf("resume a succeeded job: %v", err)
	}
	if _, err := m.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown job: %v", err)
	}
}

// The form's defaults say where jobs run in words and hold out the default model's
// class, so that a first job can be set beside the built-in model.
func TestDefaultLimitsDescribeTheServer(t *testing.T) {
	l := DefaultLimits(train.EngineAuto, "cpu")
	if !strings.HasPrefix(l.DeviceName, "CPU, ") || !strings.Contains(l.DeviceName, " cores · ") {
		t.Errorf("device name %q, want \"CPU, N cores · <trainer>\"", l.DeviceName)
	}
	if l.Defaults.AnomalyClass != 2 {
		t.Errorf("default anomaly class %d, want the default model's (2)", l.Defaults.AnomalyClass)
	}
}

// Finished jobs beyond KeepJobs are deleted, oldest first, with their folders;
// interrupted ones are kept (they can be resumed). Delete removes an ended job and
// refuses a running or queued one.
func TestRetentionAndDelete(t *testing.T) {
	models := t.TempDir()
	write := func(id string, state api.JobState, finished time.Time) {
		dir := filepath.Join(models, JobsFolder, id)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(api.Job{ID: id, State: state, Finished: finished, Request: DefaultLimits(train.EngineAuto, "cpu").Defaults})
		os.WriteFile(filepath.Join(dir, jobFile), b, 0o644)
		os.WriteFile(filepath.Join(dir, "checkpoint.safetensors"), []byte("a checkpoint"), 0o644)
	}
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	write("old00001", api.JobSucceeded, day)
	write("old00002", api.JobFailed, day.Add(time.Hour))
	write("new00003", api.JobCancelled, day.Add(2*time.Hour))
	write("new00004", api.JobSucceeded, day.Add(3*time.Hour))
	write("int00005", api.JobInterrupted, day) // old, but resumable
	m, err := Open(Options{ModelsDir: models, Device: "cpu", KeepJobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(t.Context())
	var ids []string
	for _, j := range m.List() {
		ids = append(ids, j.ID)
	}
	slices.Sort(ids)
	if got, want := strings.Join(ids, ","), "int00005,new00003,new00004"; got != want {
		t.Errorf("jobs kept: %s, want %s", got, want)
	}
	for id, kept := range map[string]bool{"old00001": false, "old00002": false, "new00003": true, "int00005": true} {
		if _, err := os.Stat(filepath.Join(models, JobsFolder, id)); (err == nil) != kept {
			t.Errorf("folder of %s: kept %v, want %v", id, err == nil, kept)
		}
	}
	if err := m.Delete("new00003"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get("new00003"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a deleted job is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(models, JobsFolder, "new00003")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a deleted job's folder is still there: %v", err)
	}
	if err := m.Delete("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting an unknown job: %v", err)
	}
}

// TestResumedStepsAreNotSentTwice writes the log of a job interrupted at step 7, after
// a checkpoint at step 4, opens it again and feeds it the resumed run's events: steps
// 5 to 7 are redone by the trainer but must not reach the log (and its clients) twice.
func TestResumedStepsAreNotSentTwice(t *testing.T) {
	models := t.TempDir()
	dir := filepath.Join(models, JobsFolder, "bbbb0001")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(api.Job{ID: "bbbb0001", State: api.JobRunning, Request: DefaultLimits(train.EngineAuto, "cpu").Defaults})
	os.WriteFile(filepath.Join(dir, jobFile), b, 0o644)
	for i := 1; i <= 7; i++ {
		appendLine(filepath.Join(dir, eventsFile), api.JobEvent{Seq: i, Event: progress.Event{Kind: api.EventStep, Iteration: i, Iterations: 12}})
	}
	m, err := Open(Options{ModelsDir: models, Device: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(t.Context())
	m.mu.Lock()
	j := m.jobs["bbbb0001"]
	m.mu.Unlock()
	losses := &train.Losses{}
	m.onEvent(j, train.Event{Kind: train.EventStart, Epoch: 1, Epochs: 3, Iteration: 4, Iterations: 12})
	for i := 5; i <= 12; i++ {
		m.onEvent(j, train.Event{Kind: train.EventStep, Epoch: 2, Epochs: 3, Iteration: i, Iterations: 12, Losses: losses})
	}
	evs, _, _, _ := m.Events("bbbb0001", 0)
	var steps []int
	for _, ev := range evs {
		if ev.Kind == api.EventStep {
			steps = append(steps, ev.Iteration)
		}
	}
	if want := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(steps, want) {
		t.Errorf("step events %v, want %v", steps, want)
	}
	if got, _ := m.Get("bbbb0001"); got.Progress.Iteration != 12 {
		t.Errorf("progress at step %d, want 12", got.Progress.Iteration)
	}
}
