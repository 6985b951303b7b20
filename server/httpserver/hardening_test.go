package httpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// listening starts s on a loopback port with its own deadlines (ServeListener, not
// httptest: the deadlines are the server's) and returns its address.
func listening(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}

// postJob submits a job to a listening server, with the token, and returns it.
func postJob(t *testing.T, base string, r api.JobRequest) api.Job {
	t.Helper()
	body, _ := json.Marshal(r)
	req, _ := http.NewRequest(http.MethodPost, base+api.JobsPath, strings.NewReader(string(body)))
	req.Header.Set("Authorization", api.BearerToken(testToken))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var job api.Job
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&job) != nil {
		t.Fatalf("POST %s: %s", api.JobsPath, resp.Status)
	}
	return job
}

// A client that sends its body one byte at a time is cut off after ReadTimeout,
// with or without a token; before, it held the connection for as long as it liked.
func TestSlowBodyIsCutOff(t *testing.T) {
	s, err := New(Options{ModelsDir: t.TempDir(), WebFS: webFS(), Device: "cpu", Token: testToken,
		ReadTimeout: time.Second, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		DefaultWeights: weightsBytes(t, 1, "mnist", 0)})
	if err != nil {
		t.Fatal(err)
	}
	addr := listening(t, s)
	for _, auth := range []string{"", "Authorization: " + api.BearerToken(testToken) + "\r\n"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n%s\r\n{", api.JobsPath, auth)
		closed := make(chan struct{})
		go func() {
			io.Copy(io.Discard, conn) // until the server closes the connection
			close(closed)
		}()
		cut := false
		for !cut && time.Since(start) < 10*time.Second {
			select {
			case <-closed:
				cut = true
			case <-time.After(100 * time.Millisecond):
				conn.Write([]byte(" "))
			}
		}
		conn.Close()
		if !cut {
			t.Errorf("token %v: a body sent a byte every 100 ms held the connection for %v", auth != "", time.Since(start).Round(time.Millisecond))
		} else {
			t.Logf("token %v: slow body cut off after %v", auth != "", time.Since(start).Round(time.Millisecond))
		}
	}
}

// An event stream lives longer than the server's write deadline for ordinary
// responses: it pushes its own deadline on at every event.
func TestEventStreamOutlivesWriteTimeout(t *testing.T) {
	s, err := New(Options{ModelsDir: t.TempDir(), WebFS: webFS(), Device: "cpu", Token: testToken,
		WriteTimeout: 500 * time.Millisecond, Heartbeat: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DefaultWeights: weightsBytes(t, 1, "mnist", 0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	base := "http://" + listening(t, s)
	job := postJob(t, base, longerJob())
	start := time.Now()
	resp, err := http.Get(base + api.JobEventsURL(job.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	ended := false
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev api.JobEvent
		if json.Unmarshal([]byte(data), &ev) == nil && ev.Final() {
			ended = true
			break
		}
	}
	took := time.Since(start)
	if !ended {
		t.Fatalf("the stream ended after %v without the job's end event (%v)", took.Round(time.Millisecond), sc.Err())
	}
	if took < 2*500*time.Millisecond {
		t.Errorf("the job took only %v: the stream did not have to outlive the write deadline, so this proves nothing", took)
	} else {
		t.Logf("stream open %v, 500 ms write deadline", took.Round(time.Millisecond))
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/teach", api.ModelsPath, "/web/app.css", "/no-such-page", "/weights/nope.safetensors"} {
		rec := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		h := rec.Header()
		if h.Get("Content-Security-Policy") != "frame-ancestors 'none'" || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s (%d): headers %v", path, rec.Code, h)
		}
	}
}

// Job requests take exact, single field names: encoding/json alone would accept
// "Epochs" and keep the last of two "epochs".
func TestJobRequestExactKeys(t *testing.T) {
	js := newJobServer(t, "")
	for _, c := range []struct{ body, want string }{
		{`{"dataset":"mnist","Epochs":3}`, `did you mean "epochs"`},
		{`{"dataset":"mnist","epochs":1,"epochs":50}`, `"epochs" appears twice`},
		{`{"dataset":"mnist","epochz":1}`, `unknown field "epochz"`},
	} {
		resp, body := js.do(t, http.MethodPost, api.JobsPath, testToken, c.body)
		var e api.Error
		json.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Message, c.want) {
			t.Errorf("%s: %s %s, want 400 saying %s", c.body, resp.Status, body, c.want)
		}
	}
}

func TestShortTokenRefused(t *testing.T) {
	_, err := New(Options{ModelsDir: t.TempDir(), WebFS: webFS(), Device: "cpu", Token: "hunter2",
		DefaultWeights: weightsBytes(t, 1, "mnist", 0)})
	if err == nil || !strings.Contains(err.Error(), "at least 16") || !strings.Contains(err.Error(), "GANOMALY_TOKEN") {
		t.Errorf("a 7-character token: %v", err)
	}
}

// /healthz says the server is up; /metrics counts requests by route (the mux
// pattern, not the raw path) and shows the job gauges of a training server.
func TestHealthzAndMetrics(t *testing.T) {
	js := newJobServer(t, "")
	resp, body := js.do(t, http.MethodGet, HealthzPath, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"ok"`) {
		t.Fatalf("healthz: %s %s", resp.Status, body)
	}
	for range 3 {
		js.do(t, http.MethodGet, api.ModelsPath, "", nil)
	}
	js.do(t, http.MethodGet, api.JobURL("no-such-job-1234"), "", nil)
	_, body = js.do(t, http.MethodGet, MetricsPath, "", nil)
	text := string(body)
	for _, want := range []string{
		`ganomaly_http_requests_total{code="200",method="GET",route="GET /api/models"} 3`,
		`ganomaly_http_requests_total{code="404",method="GET",route="GET /api/jobs/{id}"} 1`,
		`ganomaly_http_request_duration_seconds_bucket{route="GET /api/models"`,
		"ganomaly_jobs_queued 0", "ganomaly_jobs_running 0", "ganomaly_training_images_per_second 0", "ganomaly_models 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(text, "no-such-job-1234") {
		t.Error("a raw path became a label value")
	}
}

// A client holding its share of connections has further ones closed at once; one
// closed makes room again.
func TestConnectionsPerClient(t *testing.T) {
	s, err := New(Options{WebFS: webFS(), MaxConnsPerClient: 3, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		DefaultWeights: weightsBytes(t, 1, "mnist", 0)})
	if err != nil {
		t.Fatal(err)
	}
	addr := listening(t, s)
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond) // let the server accept them
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(extra, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", HealthzPath)
	if n, err := extra.Read(make([]byte, 1)); n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("a 4th connection got %d bytes, %v; want it closed at once", n, err)
	}
	extra.Close()
	held[0].Close()
	time.Sleep(100 * time.Millisecond)
	resp, err := http.Get("http://" + addr + HealthzPath)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("after one connection closed: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	for _, c := range held[1:] {
		c.Close()
	}
}

// A client may hold MaxStreamsPerClient event streams; the next gets 429.
func TestStreamsPerClient(t *testing.T) {
	s, err := New(Options{ModelsDir: t.TempDir(), WebFS: webFS(), Device: "cpu", Token: testToken, MaxStreamsPerClient: 2,
		Heartbeat: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DefaultWeights: weightsBytes(t, 1, "mnist", 0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	base := "http://" + listening(t, s)
	job := postJob(t, base, longerJob())
	for i := range 3 {
		resp, err := http.Get(base + api.JobEventsURL(job.ID))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		want := http.StatusOK
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Errorf("stream %d: %s, want %d", i+1, resp.Status, want)
		}
	}
}
