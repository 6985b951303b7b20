package api

import (
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
