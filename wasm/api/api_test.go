package api

import (
	"math"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, name := range []string{"default", "mnist-0", "fashion_mnist.7", "A1", "x", strings.Repeat("a", MaxNameLen)} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range []string{"", ".", "..", "../etc/passwd", "a/b", `a\b`, "a..b", "-x", ".hidden",
		"a b", "a%2fb", "é", "a\x00", strings.Repeat("a", MaxNameLen+1)} {
		if err := CheckName(name); err == nil {
			t.Errorf("CheckName(%q) = nil, want an error", name)
		}
	}
}

func TestWeightsURL(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got, want := WeightsURL("mnist-0", sha), "/weights/mnist-0.safetensors?v=0123456789abcdef"; got != want {
		t.Errorf("WeightsURL = %q, want %q", got, want)
	}
	if got := (Model{SHA256: sha}).Version(); got != "0123456789abcdef" {
		t.Errorf("Version = %q", got)
	}
}

func TestParseBearer(t *testing.T) {
	for in, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", BearerToken(" t0k "): "t0k"} {
		if got, ok := ParseBearer(in); !ok || got != want {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "Bearer", "Bearer  ", "Basic abc", "abc"} {
		if got, ok := ParseBearer(in); ok {
			t.Errorf("ParseBearer(%q) = %q, want a refusal", in, got)
		}
	}
}

func TestJobHelpers(t *testing.T) {
	if got := JobEventsFrom("ab12", 7); got != "/api/jobs/ab12/events?last_event_id=7" {
		t.Errorf("JobEventsFrom = %q", got)
	}
	if got := JobEventsFrom("ab12", 0); got != "/api/jobs/ab12/events" {
		t.Errorf("JobEventsFrom(0) = %q", got)
	}
	for _, s := range []JobState{JobSucceeded, JobFailed, JobCancelled, JobInterrupted} {
		if !s.Ended() {
			t.Errorf("%s: not ended", s)
		}
	}
	if JobQueued.Ended() || JobRunning.Ended() {
		t.Error("queued or running: ended")
	}
	if f := (JobProgress{Iteration: 3, Iterations: 12}).Fraction(); f != 0.25 {
		t.Errorf("Fraction = %v", f)
	}
	for secs, want := range map[float64]string{4.6: "5 s", 200: "3 min 20 s", 3900: "1 h 05 min"} {
		if got := FormatETA(secs); got != want {
			t.Errorf("FormatETA(%v) = %q, want %q", secs, got, want)
		}
	}
}

func TestLimitsRefuseAndEstimate(t *testing.T) {
	l := JobLimits{Datasets: []string{"mnist"}, ImageSizes: []int{16, 32, 64}, MaxEpochs: 50, MaxWidth: 64, MaxBatchSize: 256, MaxTrain: 60000,
		Defaults: JobRequest{Dataset: "mnist", Epochs: 3, ImageSize: 32, Width: 16, BatchSize: 64}}
	ok := l.Defaults
	if f, msg := l.Refuse(ok); f != "" {
		t.Errorf("the defaults refused: %s %s", f, msg)
	}
	for _, c := range []struct {
		change func(*JobRequest)
		field  string
	}{
		{func(r *JobRequest) { r.Epochs = 51 }, "epochs"},
		{func(r *JobRequest) { r.ImageSize = 48 }, "image_size"},
		{func(r *JobRequest) { r.Width = 128 }, "width"},
		{func(r *JobRequest) { r.BatchSize = 512 }, "batch_size"},
		{func(r *JobRequest) { r.MaxTrain = 70000 }, "max_train"},
		{func(r *JobRequest) { r.Dataset = "folder" }, "dataset"},
	} {
		r := ok
		c.change(&r)
		if f, msg := l.Refuse(r); f != c.field || msg == "" {
			t.Errorf("%+v: refused %q (%s), want %q", r, f, msg, c.field)
		}
	}
	if _, ok := l.Estimate(ok); ok {
		t.Error("an estimate without a measurement")
	}
	l.Measured = &Throughput{Width: 16, ImageSize: 32, Channels: 1, ImagesPerSecond: 453.6}
	s, okE := l.Estimate(ok) // 3 epochs of 45,312 images at 453.6 images/s
	if !okE || math.Abs(s-3*45312/453.6) > 1e-9 {
		t.Errorf("estimate %v s", s)
	}
	wide := ok
	wide.Width = 32 // four times the work per image
	if s4, _ := l.Estimate(wide); math.Abs(s4-4*s) > 1e-6 {
		t.Errorf("width 32: %v s, want %v", s4, 4*s)
	}
	capped := ok
	capped.MaxIterations = 10
	if sc, _ := l.Estimate(capped); math.Abs(sc-640/453.6) > 1e-9 {
		t.Errorf("10 steps: %v s", sc)
	}
}
