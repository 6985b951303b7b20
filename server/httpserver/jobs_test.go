package httpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/server/internal/jobs"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// These tests train for real (libtorch, MNIST from the GoMNIST module) with jobs of a
// second or two: 16×16 images, width 8, a few hundred train images, batches of 32.

const testToken = "s3cret-test-token"

// tinyJob trains 10 steps: 7 in epoch 1 (230 train normals in batches of 32), 3 in
// epoch 2, then scores 200 test images.
func tinyJob() api.JobRequest {
	return api.JobRequest{Dataset: "mnist", AnomalyClass: 2, Epochs: 2, ImageSize: 16, Protocol: "honest",
		Width: 8, BatchSize: 32, MaxTrain: 256, MaxTest: 200, MaxIterations: 10, Seed: 1}
}

// longerJob takes a few seconds: 3 epochs of 56 steps on 2000 train normals.
func longerJob() api.JobRequest {
	r := tinyJob()
	r.Epochs, r.MaxTrain, r.MaxIterations = 3, 2000, 0
	return r
}

type jobServer struct {
	srv  *Server
	http *httptest.Server
	dir  string
	logs *bytes.Buffer
}

func newJobServer(t *testing.T, dir string) *jobServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	logs := &bytes.Buffer{}
	srv, err := New(Options{ModelsDir: dir, WebFS: webFS(), Version: "test", Device: "cpu", Token: testToken,
		Heartbeat: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		DefaultWeights: weightsBytes(t, 1, "mnist", 0)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	js := &jobServer{srv: srv, http: hs, dir: dir, logs: logs}
	t.Cleanup(func() { js.close(t) })
	return js
}

// close interrupts the jobs, as a server's shutdown does, and stops the listener.
func (js *jobServer) close(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := js.srv.Close(ctx); err != nil {
		t.Error(err)
	}
	js.http.Close()
}

func (js *jobServer) do(t *testing.T, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, js.http.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", api.BearerToken(token))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func (js *jobServer) submit(t *testing.T, req api.JobRequest) api.Job {
	t.Helper()
	resp, b := js.do(t, "POST", api.JobsPath, testToken, req)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", api.JobsPath, resp.StatusCode, b)
	}
	var j api.Job
	mustUnmarshal(t, b, &j)
	if resp.Header.Get("Location") != api.JobURL(j.ID) {
		t.Errorf("Location %q, want %q", resp.Header.Get("Location"), api.JobURL(j.ID))
	}
	return j
}

func (js *jobServer) job(t *testing.T, id string) api.Job {
	t.Helper()
	resp, b := js.do(t, "GET", api.JobURL(id), "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", api.JobURL(id), resp.StatusCode, b)
	}
	var j api.Job
	mustUnmarshal(t, b, &j)
	return j
}

// waitJob polls a job until ok says so.
func (js *jobServer) waitJob(t *testing.T, id, what string, ok func(api.Job) bool) api.Job {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		j := js.job(t, id)
		if ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: waited 2 min for %s; it is %s (%s)", id, what, j.State, j.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

// sse is what a client read from an event stream.
type sse struct {
	events     []api.JobEvent
	ids        []int
	heartbeats int
	retry      bool
}

// readSSE opens a job's event stream (with Last-Event-ID when last > 0, or the query
// parameter when query is set) and reads it to its end.
func (js *jobServer) readSSE(t *testing.T, id string, last int, query bool) sse {
	t.Helper()
	url := js.http.URL + api.JobEventsURL(id)
	if query {
		url = js.http.URL + api.JobEventsFrom(id, last)
	}
	req, _ := http.NewRequest("GET", url, nil)
	if last > 0 && !query {
		req.Header.Set("Last-Event-ID", strconv.Itoa(last))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("events: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return parseSSE(t, resp.Body)
}

func parseSSE(t *testing.T, r io.Reader) sse {
	t.Helper()
	var out sse
	sc := bufio.NewScanner(r)
	id := -1
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			id = -1
		case strings.HasPrefix(line, ":"):
			out.heartbeats++
		case strings.HasPrefix(line, "retry: "):
			out.retry = true
		case strings.HasPrefix(line, "id: "):
			id, _ = strconv.Atoi(strings.TrimPrefix(line, "id: "))
		case strings.HasPrefix(line, "data: "):
			var ev api.JobEvent
			mustUnmarshal(t, []byte(strings.TrimPrefix(line, "data: ")), &ev)
			if ev.Seq != id {
				t.Errorf("event data has seq %d under id %d", ev.Seq, id)
			}
			out.events = append(out.events, ev)
			out.ids = append(out.ids, id)
		default:
			t.Errorf("unexpected line %q", line)
		}
	}
	return out
}

func kinds(evs []api.JobEvent) []string {
	var out []string
	for _, e := range evs {
		k := e.Kind
		if e.State != "" {
			k += ":" + string(e.State)
		}
		out = append(out, k)
	}
	return out
}

func countKind(evs []api.JobEvent, kind string) int {
	n := 0
	for _, e := range evs {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func TestJobRefusals(t *testing.T) {
	js := newJobServer(t, "")
	type refusal struct {
		name   string
		body   any
		status int
		code   string
		field  string
		want   string // in the error message
	}
	with := func(change func(*api.JobRequest)) api.JobRequest {
		r := tinyJob()
		change(&r)
		return r
	}
	cases := []refusal{
		{"bad JSON", `{"dataset": "mnist",`, 400, api.CodeBadJSON, "", "JSON"},
		{"empty body", ``, 400, api.CodeBadJSON, "", "empty"},
		{"two objects", `{"dataset":"mnist"} {}`, 400, api.CodeBadJSON, "", "nothing after it"},
		{"unknown field", `{"dataset":"mnist","epoch":3}`, 400, api.CodeBadJSON, "epoch", `unknown field "epoch"`},
		{"wrong type", `{"dataset":"mnist","epochs":"three"}`, 400, api.CodeBadJSON, "epochs", "epochs: want a int"},
		{"unknown dataset", with(func(r *api.JobRequest) { r.Dataset = "cifar" }), 400, api.CodeInvalidJob, "dataset", `unknown data set "cifar"`},
		{"no dataset", with(func(r *api.JobRequest) { r.Dataset = "" }), 400, api.CodeInvalidJob, "dataset", "no data set"},
		{"folder dataset", with(func(r *api.JobRequest) { r.Dataset = "folder" }), 400, api.CodeInvalidJob, "dataset", "not offered by this server"},
		{"class 10", with(func(r *api.JobRequest) { r.AnomalyClass = 10 }), 400, api.CodeInvalidJob, "anomaly_class", "anomaly class 10"},
		{"epochs 0", with(func(r *api.JobRequest) { r.Epochs = 0 }), 400, api.CodeInvalidJob, "epochs", "epochs 0"},
		{"epochs negative", with(func(r *api.JobRequest) { r.Epochs = -3 }), 400, api.CodeInvalidJob, "epochs", "epochs -3"},
		{"epochs over limit", with(func(r *api.JobRequest) { r.Epochs = 51 }), 400, api.CodeInvalidJob, "epochs", "at most 50 epochs"},
		{"image size 20", with(func(r *api.JobRequest) { r.ImageSize = 20 }), 400, api.CodeInvalidJob, "image_size", "image size 20"},
		{"image size 0", with(func(r *api.JobRequest) { r.ImageSize = 0 }), 400, api.CodeInvalidJob, "image_size", "image size 0"},
		{"image size over limit", with(func(r *api.JobRequest) { r.ImageSize = 128 }), 400, api.CodeInvalidJob, "image_size", "16, 32 or 64"},
		{"bad protocol", with(func(r *api.JobRequest) { r.Protocol = "fast" }), 400, api.CodeInvalidJob, "protocol", `unknown protocol "fast"`},
		{"odd width", with(func(r *api.JobRequest) { r.Width = 7 }), 400, api.CodeInvalidJob, "width", "width 7"},
		{"width over limit", with(func(r *api.JobRequest) { r.Width = 128 }), 400, api.CodeInvalidJob, "width", "at most 64"},
		{"batch of one", with(func(r *api.JobRequest) { r.BatchSize = 1 }), 400, api.CodeInvalidJob, "batch_size", "batch size 1"},
		{"negative max train", with(func(r *api.JobRequest) { r.MaxTrain = -5 }), 400, api.CodeInvalidJob, "max_train", "MaxTrain -5"},
		{"negative max iterations", with(func(r *api.JobRequest) { r.MaxIterations = -1 }), 400, api.CodeInvalidJob, "max_iterations", "max iterations -1"},
	}
	for _, c := range cases {
		resp, b := js.do(t, "POST", api.JobsPath, testToken, c.body)
		var e api.Error
		if json.Unmarshal(b, &e) != nil || resp.StatusCode != c.status || e.Code != c.code || e.Field != c.field || !strings.Contains(e.Message, c.want) {
			t.Errorf("%s: %d %s; want %d, code %q, field %q, a message with %q", c.name, resp.StatusCode, b, c.status, c.code, c.field, c.want)
		}
	}

	// The token: missing, wrong, or not a bearer credential.
	for _, auth := range []string{"", "Bearer wrong", "Basic " + testToken, "Bearer", testToken} {
		for _, r := range []struct{ method, path string }{
			{"POST", api.JobsPath}, {"DELETE", api.JobURL("0000")}, {"POST", api.JobResumeURL("0000")},
		} {
			req, _ := http.NewRequest(r.method, js.http.URL+r.path, strings.NewReader(`{}`))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e api.Error
			if json.Unmarshal(b, &e) != nil || resp.StatusCode != 401 || e.Code != api.CodeUnauthorized ||
				!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with Authorization %q: %d %s", r.method, r.path, auth, resp.StatusCode, b)
			}
		}
	}

	// Unknown jobs.
	for _, r := range []struct{ method, path, token string }{
		{"GET", api.JobURL("nope"), ""}, {"GET", api.JobEventsURL("nope"), ""},
		{"DELETE", api.JobURL("nope"), testToken}, {"POST", api.JobResumeURL("nope"), testToken},
	} {
		resp, b := js.do(t, r.method, r.path, r.token, nil)
		if resp.StatusCode != 404 || !strings.Contains(string(b), api.CodeJobNotFound) {
			t.Errorf("%s %s: %d %s", r.method, r.path, resp.StatusCode, b)
		}
	}
	// Methods that have no meaning there, and a bad Last-Event-ID.
	for _, r := range []struct{ method, path string }{{"PUT", api.JobsPath}, {"POST", api.JobURL("x")}, {"GET", api.JobResumeURL("x")}, {"POST", api.JobLimitsPath}} {
		resp, b := js.do(t, r.method, r.path, testToken, nil)
		if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" || !strings.Contains(string(b), "method_not_allowed") {
			t.Errorf("%s %s: %d %s", r.method, r.path, resp.StatusCode, b)
		}
	}

	// Nothing was queued, and the limits are there for a form.
	resp, b := js.do(t, "GET", api.JobsPath, "", nil)
	var list api.JobList
	mustUnmarshal(t, b, &list)
	if resp.StatusCode != 200 || len(list.Jobs) != 0 || list.Limits.MaxEpochs != 50 || list.Limits.MaxImageSize != 64 ||
		list.Limits.MaxWidth != 64 || strings.Join(list.Limits.Datasets, ",") != "mnist,fashion-mnist" || list.Limits.Defaults.Epochs != jobs.CPUDefaultEpochs || list.Limits.Defaults.Width != jobs.CPUDefaultWidth {
		t.Errorf("list: %d %s", resp.StatusCode, b)
	}
	resp, b = js.do(t, "GET", api.JobLimitsPath, "", nil)
	var limits api.JobLimits
	mustUnmarshal(t, b, &limits)
	if resp.StatusCode != 200 || limits.MaxEpochs != 50 || len(limits.ImageSizes) != 3 || limits.Device != "cpu" {
		t.Errorf("limits: %d %s", resp.StatusCode, b)
	}
	if entries, _ := os.ReadDir(filepath.Join(js.dir, "jobs")); len(entries) != 0 {
		t.Errorf("refused requests left %d job folders", len(entries))
	}
}

func TestJobsNeedAModelsFolder(t *testing.T) {
	srv, err := New(Options{WebFS: webFS(), DefaultWeights: weightsBytes(t, 1, "mnist", 0), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Training() || srv.Token() != "" {
		t.Errorf("a server without a models folder trains (token %q)", srv.Token())
	}
	for _, r := range []struct{ method, path string }{{"GET", api.JobsPath}, {"POST", api.JobsPath}, {"GET", api.JobLimitsPath}} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(r.method, r.path, nil))
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), api.CodeNoTraining) {
			t.Errorf("%s %s: %d %s", r.method, r.path, rec.Code, rec.Body)
		}
	}
	// A generated token is long and random.
	a, _ := New(Options{ModelsDir: t.TempDir(), WebFS: webFS(), DefaultWeights: weightsBytes(t, 1, "mnist", 0), Logger: slog.New(slog.DiscardHandler)})
	b, _ := New(Options{ModelsDir: t.TempDir(), WebFS: webFS(), DefaultWeights: weightsBytes(t, 1, "mnist", 0), Logger: slog.New(slog.DiscardHandler)})
	if len(a.Token()) < 32 || a.Token() == b.Token() {
		t.Errorf("generated tokens %q and %q", a.Token(), b.Token())
	}
	a.Close(context.Background())
	b.Close(context.Background())
}

// TestJobRunsAndPublishes follows a job from POST to its published model: the event
// stream read live from the first event, the replay after Last-Event-ID, the files.
func TestJobRunsAndPublishes(t *testing.T) {
	js := newJobServer(t, "")
	start := time.Now()
	j := js.submit(t, tinyJob())
	if j.State != api.JobQueued && j.State != api.JobRunning {
		t.Errorf("new job is %s", j.State)
	}
	live := js.readSSE(t, j.ID, 0, false)
	took := time.Since(start)
	evs := live.events
	t.Logf("tiny job (%d steps, 16×16, width 8): %v from POST to the end event; events %v", tinyJob().MaxIterations, took.Round(time.Millisecond), kinds(evs))
	for i, e := range evs {
		if e.Seq != i+1 || live.ids[i] != i+1 {
			t.Fatalf("event %d has seq %d, id %d: want 1, 2, 3, … without gaps", i, e.Seq, live.ids[i])
		}
	}
	if !live.retry {
		t.Error("the stream sent no retry interval")
	}
	got := kinds(evs)
	if got[0] != "state:queued" || got[1] != "state:running" || got[2] != "start" || got[len(got)-2] != "done" || got[len(got)-1] != "end:succeeded" {
		t.Errorf("events %v: want queued, running, start, …, done, end", got)
	}
	if n := countKind(evs, api.EventStep); n != 10 {
		t.Errorf("%d step events, want 10 (one per step)", n)
	}
	if n := countKind(evs, api.EventEpoch); n != 2 {
		t.Errorf("%d epoch events, want 2", n)
	}
	for _, e := range evs {
		if e.Kind == api.EventStep && (e.Losses == nil || !(e.Losses.Con > 0) || !(e.ImagesPerSecond > 0)) {
			t.Errorf("step event without losses or throughput: %+v", e)
		}
		if e.Kind == api.EventEpoch && (e.Figures == nil || !(e.Figures.ValLoss > 0)) {
			t.Errorf("epoch event without validation figures: %+v", e)
		}
	}
	end := evs[len(evs)-1]
	name := "mnist-2-" + j.ID
	if end.Model != name {
		t.Errorf("end event names model %q, want %q", end.Model, name)
	}

	// The job as GET tells it.
	got1 := js.job(t, j.ID)
	if got1.State != api.JobSucceeded || got1.Model != name || got1.Progress.Iteration != 10 || got1.Progress.Iterations != 10 ||
		len(got1.Epochs) != 2 || got1.LastEvent != len(evs) || got1.Finished.IsZero() || !(got1.TestAUC > 0) || got1.Progress.Losses == nil {
		t.Errorf("job %+v", got1)
	}
	resp, b := js.do(t, "GET", api.JobsPath, "", nil)
	var list api.JobList
	mustUnmarshal(t, b, &list)
	if resp.StatusCode != 200 || len(list.Jobs) != 1 || list.Jobs[0].ID != j.ID {
		t.Errorf("list: %s", b)
	}

	// Replays: after an id (header), after an id (query), beyond the end.
	for _, query := range []bool{false, true} {
		again := js.readSSE(t, j.ID, 4, query)
		if len(again.events) != len(evs)-4 || again.events[0].Seq != 5 || again.events[len(again.events)-1].Kind != api.EventEnd {
			t.Errorf("replay after 4 (query %v): %v", query, kinds(again.events))
		}
	}
	if none := js.readSSE(t, j.ID, len(evs), false); len(none.events) != 0 {
		t.Errorf("replay after the last event: %v", kinds(none.events))
	}
	req, _ := http.NewRequest("GET", js.http.URL+api.JobEventsURL(j.ID), nil)
	req.Header.Set("Last-Event-ID", "x")
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 400 {
		t.Errorf("Last-Event-ID x: %v %v", r.StatusCode, err)
	}

	// The model is published with its card, and listed.
	for _, ext := range []string{api.WeightsExt, api.CardExt} {
		if _, err := os.Stat(filepath.Join(js.dir, name+ext)); err != nil {
			t.Errorf("published %s: %v", ext, err)
		}
	}
	resp, b = js.do(t, "GET", api.ModelsPath, "", nil)
	var models api.ModelList
	mustUnmarshal(t, b, &models)
	var m *api.Model
	for i := range models.Models {
		if models.Models[i].Name == name {
			m = &models.Models[i]
		}
	}
	if m == nil || m.CardURL == "" || m.Config.ImageSize != 16 || m.Config.Width != 8 || m.AnomalyClass != "2" {
		t.Fatalf("model list %s: want %s with its card", b, name)
	}
	resp, b = js.do(t, "GET", m.CardURL, "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("card: %d %s", resp.StatusCode, b)
	}
	var card train.ModelCard
	mustUnmarshal(t, b, &card)
	if card.Weights != name+api.WeightsExt || card.Training.Iterations != 10 {
		t.Errorf("card names weights %q, %d iterations", card.Weights, card.Training.Iterations)
	}
	resp, b = js.do(t, "GET", m.URL, "", nil)
	if _, err := model.ReadWeights(b); resp.StatusCode != 200 || err != nil {
		t.Errorf("weights: %d %v", resp.StatusCode, err)
	}

	// The job's folder: its state, its events (one line each), its checkpoint; no
	// leftovers of the publication.
	dir := filepath.Join(js.dir, "jobs", j.ID)
	lines, _ := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if n := bytes.Count(lines, []byte("\n")); n != len(evs) {
		t.Errorf("events.jsonl has %d lines, want %d", n, len(evs))
	}
	var saved api.Job
	raw, _ := os.ReadFile(filepath.Join(dir, "job.json"))
	mustUnmarshal(t, raw, &saved)
	if saved.State != api.JobSucceeded || saved.Model != name {
		t.Errorf("job.json: %s", raw)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "checkpoint.safetensors,events.jsonl,job.json" {
		t.Errorf("job folder holds %v", names)
	}

	// A finished job cannot be resumed; DELETE deletes it (token needed), with its
	// folder, and its published model stays.
	if resp, b := js.do(t, "POST", api.JobResumeURL(j.ID), testToken, nil); resp.StatusCode != 409 || !strings.Contains(string(b), api.CodeJobConflict) {
		t.Errorf("resume of a succeeded job: %d %s", resp.StatusCode, b)
	}
	if resp, b := js.do(t, "DELETE", api.JobURL(j.ID), testToken, nil); resp.StatusCode != 409 || !strings.Contains(string(b), api.CodeJobConflict) {
		t.Errorf("cancel of a succeeded job: %d %s", resp.StatusCode, b)
	}
	if resp, _ := js.do(t, "DELETE", api.JobURL(j.ID)+"?delete=1", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("delete without the token: %d", resp.StatusCode)
	}
	if resp, b := js.do(t, "DELETE", api.JobURL(j.ID)+"?delete=1", testToken, nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete of a succeeded job: %d %s, want 204", resp.StatusCode, b)
	}
	if resp, _ := js.do(t, "GET", api.JobURL(j.ID), "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET of a deleted job: %d, want 404", resp.StatusCode)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the deleted job's folder is still there: %v", err)
	}
	if resp, _ := js.do(t, "GET", m.URL, "", nil); resp.StatusCode != 200 {
		t.Errorf("the deleted job's model: %d, want it still served", resp.StatusCode)
	}
}

// TestJobQueueAndCancel runs a longer job with two more waiting behind it: the queue is
// first in, first out; a queued job's stream sends heartbeats while it waits; a queued
// job and a running one can be cancelled, once.
func TestJobQueueAndCancel(t *testing.T) {
	js := newJobServer(t, "")
	a := js.submit(t, longerJob())
	b := js.submit(t, tinyJob())
	c := js.submit(t, tinyJob())
	if b.State != api.JobQueued || c.State != api.JobQueued || c.QueuePosition != b.QueuePosition+1 || b.QueuePosition < 1 {
		t.Fatalf("behind a running job: b %s at %d, c %s at %d", b.State, b.QueuePosition, c.State, c.QueuePosition)
	}

	// c leaves the queue; a second cancel is refused.
	resp, body := js.do(t, "DELETE", api.JobURL(c.ID), testToken, nil)
	var cj api.Job
	mustUnmarshal(t, body, &cj)
	if resp.StatusCode != 200 || cj.State != api.JobCancelled {
		t.Errorf("cancel queued: %d %s", resp.StatusCode, body)
	}
	resp, body = js.do(t, "DELETE", api.JobURL(c.ID), testToken, nil)
	if resp.StatusCode != 409 || !strings.Contains(string(body), "already ended (cancelled)") {
		t.Errorf("cancel twice: %d %s", resp.StatusCode, body)
	}
	if cs := js.readSSE(t, c.ID, 0, false); strings.Join(kinds(cs.events), ",") != "state:queued,end:cancelled" {
		t.Errorf("cancelled queued job's events: %v", kinds(cs.events))
	}

	// b waits: its stream, read in the background, gets heartbeats until a ends.
	bStream := make(chan sse, 1)
	go func() { bStream <- js.readSSE(t, b.ID, 0, false) }()

	// a runs; cancel it once it has logged a step.
	js.waitJob(t, a.ID, "a step", func(j api.Job) bool { return j.Progress.Iteration > 0 })
	resp, body = js.do(t, "DELETE", api.JobURL(a.ID), testToken, nil)
	var aj api.Job
	mustUnmarshal(t, body, &aj)
	if resp.StatusCode != 200 || aj.State != api.JobCancelled || aj.Model != "" {
		t.Errorf("cancel running: %d %s", resp.StatusCode, body)
	}
	resp, _ = js.do(t, "DELETE", api.JobURL(a.ID), testToken, nil)
	if resp.StatusCode != 409 {
		t.Errorf("cancel a cancelled job: %d", resp.StatusCode)
	}
	as := js.readSSE(t, a.ID, 0, false)
	if last := as.events[len(as.events)-1]; last.Kind != api.EventEnd || last.State != api.JobCancelled || countKind(as.events, api.EventDone) != 0 {
		t.Errorf("cancelled running job's events: %v", kinds(as.events))
	}

	// b then runs to its end.
	bs := <-bStream
	bj := js.job(t, b.ID)
	if bj.State != api.JobSucceeded || bs.events[len(bs.events)-1].State != api.JobSucceeded {
		t.Errorf("b: %s, events %v", bj.State, kinds(bs.events))
	}
	if bs.heartbeats == 0 {
		t.Error("no heartbeat while b waited")
	}
	if !bj.Started.After(aj.Finished) && !bj.Started.Equal(aj.Finished) {
		t.Errorf("b started at %v, before a finished at %v", bj.Started, aj.Finished)
	}
	if _, err := os.Stat(filepath.Join(js.dir, "mnist-2-"+a.ID+api.WeightsExt)); err == nil {
		t.Error("the cancelled job published a model")
	}
}

// TestJobInterruptedAndResumed stops the server while a job runs, starts a new server on
// the same folder, and resumes the job: it continues after its last finished epoch and
// publishes its model.
func TestJobInterruptedAndResumed(t *testing.T) {
	dir := t.TempDir()
	js := newJobServer(t, dir)
	j := js.submit(t, longerJob())
	stream := make(chan sse, 1)
	go func() { stream <- js.readSSE(t, j.ID, 0, false) }()
	js.waitJob(t, j.ID, "its first epoch", func(j api.Job) bool { return len(j.Epochs) >= 1 })
	js.close(t)
	first := <-stream
	if last := first.events[len(first.events)-1]; last.Kind != api.EventEnd || last.State != api.JobInterrupted {
		t.Fatalf("stream at shutdown: %v", kinds(first.events))
	}

	var saved api.Job
	raw, err := os.ReadFile(filepath.Join(dir, "jobs", j.ID, "job.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustUnmarshal(t, raw, &saved)
	if saved.State != api.JobInterrupted || !saved.Resumable || !saved.Checkpoint || len(saved.Epochs) == 0 || len(saved.Epochs) == 3 {
		t.Fatalf("saved at shutdown: %s", raw)
	}
	finished := saved.Epochs[len(saved.Epochs)-1].Epoch
	t.Logf("interrupted after epoch %d: %s", finished, saved.Error)

	// The next server lists it as interrupted; resuming needs the token.
	js2 := newJobServer(t, dir)
	if got := js2.job(t, j.ID); got.State != api.JobInterrupted || !got.Resumable || got.LastEvent != len(first.events) {
		t.Fatalf("after restart: %+v", got)
	}
	if resp, _ := js2.do(t, "POST", api.JobResumeURL(j.ID), "", nil); resp.StatusCode != 401 {
		t.Errorf("resume without the token: %d", resp.StatusCode)
	}
	resp, body := js2.do(t, "POST", api.JobResumeURL(j.ID), testToken, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("resume: %d %s", resp.StatusCode, body)
	}
	resp, _ = js2.do(t, "POST", api.JobResumeURL(j.ID), testToken, nil)
	if resp.StatusCode != 409 {
		t.Errorf("resume twice: %d", resp.StatusCode)
	}
	// A client that saw the first run's events picks up from there.
	second := js2.readSSE(t, j.ID, len(first.events), false)
	got := kinds(second.events)
	if got[0] != "state:queued" || got[len(got)-1] != "end:succeeded" || second.events[0].Seq != len(first.events)+1 {
		t.Fatalf("events after the resume: %v", got)
	}
	for _, e := range second.events {
		if e.Kind == api.EventStart && e.Epoch != finished {
			t.Errorf("resumed run starts after epoch %d, want %d", e.Epoch, finished)
		}
	}
	// Steps redone after the checkpoint are not sent again: a client's curve only grows.
	last := 0
	for _, e := range append(first.events, second.events...) {
		if e.Kind == api.EventStep {
			if e.Iteration <= last {
				t.Errorf("step %d sent after step %d", e.Iteration, last)
			}
			last = e.Iteration
		}
	}
	if n := countKind(second.events, api.EventEpoch); n != 3-finished {
		t.Errorf("resumed run finished %d epochs, want %d", n, 3-finished)
	}
	done := js2.job(t, j.ID)
	if done.State != api.JobSucceeded || len(done.Epochs) != 3 || done.Model == "" {
		t.Errorf("resumed job: %+v", done)
	}
	if _, err := os.Stat(filepath.Join(dir, done.Model+api.WeightsExt)); err != nil {
		t.Error(err)
	}

	// A closed server takes no new jobs.
	js2.close(t)
	raw, _ = json.Marshal(tinyJob())
	req := httptest.NewRequest("POST", api.JobsPath, bytes.NewReader(raw))
	req.Header.Set("Authorization", api.BearerToken(testToken))
	rec := httptest.NewRecorder()
	js2.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != 503 {
		t.Errorf("submit after Close: %d %s", rec.Code, rec.Body)
	}
}
