package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that the serving goroutine writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A first `ganomaly serve` on a fresh clone: no models folder yet, a port chosen by
// the system. It must create the folder, print a URL that answers with the embedded
// default model, print a training token, and stop cleanly when its context ends.
func TestServeFreshStart(t *testing.T) {
	models := filepath.Join(t.TempDir(), "runs")
	web := webDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRoot()
	var out syncBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"serve", "--addr", "127.0.0.1:0", "--models-dir", models, "--web-dir", web})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	url := regexp.MustCompile(`open (http://\S+) in a browser`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); {
		select {
		case err := <-done:
			t.Fatalf("serve stopped before serving: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if m := url.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("serve printed no URL:\n%s", out.String())
	}
	if fi, err := os.Stat(models); err != nil || !fi.IsDir() {
		t.Errorf("the models folder was not created: %v", err)
	}
	if !regexp.MustCompile(`training token.*\n\s+\S{16,}`).MatchString(out.String()) {
		t.Errorf("no training token printed:\n%s", out.String())
	}
	resp, err := http.Get(base + "api/models")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Models []struct {
			Name    string `json:"name"`
			Default bool   `json:"default"`
		} `json:"models"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Models) != 1 || !list.Models[0].Default {
		t.Errorf("GET /api/models on a fresh start: %+v, %v", list, err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve did not stop cleanly: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of its context ending")
	}
}

// webDir is the repository's web/ folder when the browser app is built there (make
// web), else a temporary copy of it with the app built in, as a fresh clone needs.
func webDir(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "..", "..", "web"))
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := os.Stat(filepath.Join(src, "app.wasm.gz"))
	_, err2 := os.Stat(filepath.Join(src, "worker-scalar.wasm.gz"))
	if err1 == nil && err2 == nil {
		return src // built by make web
	}
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("sh", "-c", "GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o "+dst+"/app.wasm ./wasm && "+
		"GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o "+dst+"/worker.wasm ./wasm/worker && "+
		"cp "+dst+"/worker.wasm "+dst+"/worker-scalar.wasm && "+ // the server only checks it is there
		"gzip -9kf "+dst+"/app.wasm "+dst+"/worker.wasm "+dst+"/worker-scalar.wasm")
	build.Dir = filepath.Dir(src)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the browser app: %v\n%s", err, out)
	}
	return dst
}
