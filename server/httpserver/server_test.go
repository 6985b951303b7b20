package httpserver

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	modelcard "github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// smallConfig keeps test models tiny (a few kB) so that tests stay fast.
var smallConfig = model.Config{ImageSize: 16, Channels: 1, Latent: 8, Width: 4}

func weightsBytes(t *testing.T, seed uint64, dataset string, auc float64) []byte {
	t.Helper()
	f := &model.WeightsFile{
		Config:      smallConfig,
		Calibration: model.Calibration{Score: model.ScoreMSE, Min: 0, Max: 1, Threshold: 0.5, Method: "test"},
		Provenance:  model.Provenance{Dataset: dataset, AnomalyClass: "3", TestAUC: auc, Seed: int64(seed)},
		Tensors:     model.InitTensors(smallConfig.Generator().Params(), rand.New(rand.NewPCG(seed, 1))),
	}
	b, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// cardJSON is a minimal valid model card for a model of smallConfig.
func cardJSON(title string) []byte {
	b, _ := json.Marshal(map[string]any{"format": modelcard.Format, "format_version": modelcard.FormatVersion, "title": title, "config": smallConfig})
	return b
}

// webFS stands in for the built web folder: the server checks the files are there
// but does not run them.
func webFS() fstest.MapFS {
	fs := fstest.MapFS{}
	for _, name := range []string{"worker.js", "app.css", "icon.svg", "icon-192.png", "icon-512.png"} {
		fs[name] = &fstest.MapFile{Data: []byte("/* " + name + " */")}
	}
	fs["app.wasm"] = &fstest.MapFile{Data: bytes.Repeat([]byte("\x00asm app "), 4096)}
	fs["worker.wasm"] = &fstest.MapFile{Data: bytes.Repeat([]byte("\x00asm worker "), 4096)}
	fs["worker-scalar.wasm"] = &fstest.MapFile{Data: bytes.Repeat([]byte("\x00asm scalar worker "), 4096)}
	return fs
}

type fixture struct {
	srv       *Server
	dir       string
	defWeight []byte
	logs      *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, defWeight: weightsBytes(t, 1, "mnist", 0), logs: &bytes.Buffer{}}
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mnist-3.safetensors", weightsBytes(t, 2, "mnist", 0.91))
	write("mnist-3.json", cardJSON("MNIST, 3 held out"))
	write("fashion.safetensors", weightsBytes(t, 3, "fashion-mnist", 0.8))
	write("broken.safetensors", []byte("not a safetensors file"))
	write("badcard.safetensors", weightsBytes(t, 4, "mnist", 0))
	write("badcard.json", []byte(`{not json`))
	write("othercard.safetensors", weightsBytes(t, 7, "mnist", 0))
	write("othercard.json", []byte(`{"format": "ganomaly-go/model-card", "format_version": 1, "config": {"image_size": 64, "channels": 3, "latent": 8, "width": 4}}`))
	write("freecard.safetensors", weightsBytes(t, 8, "mnist", 0))
	write("freecard.json", []byte(`{"title": "not a model card"}`))
	write("default.safetensors", weightsBytes(t, 5, "mnist", 0)) // shadows the embedded name
	write("bad name.safetensors", weightsBytes(t, 6, "mnist", 0))
	write("readme.txt", []byte("ignored"))
	log := slog.New(slog.NewTextHandler(f.logs, nil))
	srv, err := New(Options{ModelsDir: dir, WebFS: webFS(), Version: "test-1", Logger: log,
		DefaultWeights: f.defWeight, DefaultCard: cardJSON("default")})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	t.Cleanup(func() { srv.Close(context.Background()) })
	return f
}

func (f *fixture) do(t *testing.T, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestListModels(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "GET", "/api/models", nil)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var list api.ModelList
	if err := json.Unmarshal(body(t, r), &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range list.Models {
		names = append(names, m.Name)
	}
	// The default first, then the valid folder models by name; invalid ones skipped.
	if got, want := strings.Join(names, ","), "default,fashion,mnist-3"; got != want {
		t.Fatalf("models %s, want %s", got, want)
	}
	if list.ServerVersion != "test-1" || list.AppVersion != f.srv.AppVersion() || list.AppVersion == "" {
		t.Errorf("versions %q %q", list.ServerVersion, list.AppVersion)
	}
	def := list.Models[0]
	if !def.Default || def.SHA256 != sha(f.defWeight) || def.Size != int64(len(f.defWeight)) ||
		def.URL != "/weights/default.safetensors?v="+sha(f.defWeight)[:16] || def.Title != "default" ||
		def.CardURL != "/cards/default.json?v="+sha(cardJSON("default"))[:16] || def.CardSHA256 != sha(cardJSON("default")) {
		t.Errorf("default model %+v", def)
	}
	m := list.Models[2]
	if m.Dataset != "mnist" || m.AnomalyClass != "3" || m.AUC != 0.91 || m.Config != smallConfig ||
		m.Calibration.Threshold != 0.5 || m.NormalizedThreshold != 0.5 || m.Modified.IsZero() {
		t.Errorf("mnist-3 %+v", m)
	}
	// The list carries summaries; each card is at its own URL, the file as published.
	if m.Title != "MNIST, 3 held out" || m.CardURL == "" || strings.Contains(string(body(t, f.do(t, "GET", "/api/models", nil))), `"histograms"`) {
		t.Errorf("mnist-3 summary %+v", m)
	}
	r = f.do(t, "GET", m.CardURL, nil)
	if got := body(t, r); r.StatusCode != 200 || !bytes.Equal(got, cardJSON("MNIST, 3 held out")) ||
		r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || r.Header.Get("ETag") != `"`+m.CardSHA256+`"` {
		t.Errorf("card: %d %q %v", r.StatusCode, got, r.Header)
	}
	// A revalidation of the bare URL or of the list is a 304 while nothing changed.
	bare := "/cards/mnist-3.json"
	r = f.do(t, "GET", bare, http.Header{"If-None-Match": {`"` + m.CardSHA256 + `"`}})
	if r.StatusCode != 304 {
		t.Errorf("card revalidation: %d", r.StatusCode)
	}
	etag := f.do(t, "GET", "/api/models", nil).Header.Get("ETag")
	if r := f.do(t, "GET", "/api/models", http.Header{"If-None-Match": {etag}}); etag == "" || r.StatusCode != 304 {
		t.Errorf("list revalidation with %q: %d", etag, r.StatusCode)
	}
	for target, want := range map[string]int{
		"/cards/fashion.json": 404, "/cards/nope.json": 404, "/cards/mnist-3.json?v=0000000000000000": 404,
		"/cards/mnist-3.txt": 404, "/cards/..%2fx.json": 400,
	} {
		if r := f.do(t, "GET", target, nil); r.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", target, r.StatusCode, want)
		}
	}
	if !strings.Contains(f.logs.String(), "belongs to another model") {
		t.Errorf("a card of another config was not refused as such:\n%s", f.logs.String())
	}
	for _, skipped := range []string{"broken.safetensors", "badcard.safetensors", "othercard.safetensors", "freecard.safetensors", "default.safetensors", "bad name.safetensors"} {
		if !strings.Contains(f.logs.String(), skipped) {
			t.Errorf("%s was not logged as skipped:\n%s", skipped, f.logs.String())
		}
	}
	// Skipped files are logged once, not at every request.
	before := strings.Count(f.logs.String(), "skipping")
	f.do(t, "GET", "/api/models", nil)
	if after := strings.Count(f.logs.String(), "skipping"); after != before {
		t.Errorf("skips logged again: %d then %d", before, after)
	}
}

func TestModelsFollowTheFolder(t *testing.T) {
	f := newFixture(t)
	list := func() map[string]api.Model {
		var l api.ModelList
		json.Unmarshal(body(t, f.do(t, "GET", "/api/models", nil)), &l)
		out := map[string]api.Model{}
		for _, m := range l.Models {
			out[m.Name] = m
		}
		return out
	}
	before := list()
	newer := weightsBytes(t, 42, "mnist", 0.95)
	// Published as the trainer does: a temporary file, then a rename.
	tmp := filepath.Join(f.dir, ".mnist-3.safetensors.tmp")
	os.WriteFile(tmp, newer, 0o644)
	os.Rename(tmp, filepath.Join(f.dir, "mnist-3.safetensors"))
	os.WriteFile(filepath.Join(f.dir, "late.safetensors"), weightsBytes(t, 7, "mnist", 0), 0o644)
	os.Remove(filepath.Join(f.dir, "fashion.safetensors"))
	// The catalog follows the folder's events: wait for them, not for a request.
	var after map[string]api.Model
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		after = list()
		_, late := after["late"]
		_, gone := after["fashion"]
		if late && !gone && after["mnist-3"].SHA256 == sha(newer) {
			break
		}
	}
	if after["mnist-3"].SHA256 != sha(newer) || after["mnist-3"].SHA256 == before["mnist-3"].SHA256 {
		t.Errorf("republished model not picked up")
	}
	if _, ok := after["late"]; !ok {
		t.Errorf("new model not listed")
	}
	if _, ok := after["fashion"]; ok {
		t.Errorf("removed model still listed")
	}
	// The old pinned URL is refused, the new one served.
	if r := f.do(t, "GET", before["mnist-3"].URL, nil); r.StatusCode != 404 {
		t.Errorf("old version: status %d", r.StatusCode)
	}
	if r := f.do(t, "GET", after["mnist-3"].URL, nil); r.StatusCode != 200 || !bytes.Equal(body(t, r), newer) {
		t.Errorf("new version: status %d", r.StatusCode)
	}
}

func TestWeights(t *testing.T) {
	f := newFixture(t)
	want := f.defWeight
	etag := `"` + sha(want) + `"`
	pinned := "/weights/default.safetensors?v=" + sha(want)[:16]

	r := f.do(t, "GET", pinned, nil)
	got := body(t, r)
	if r.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Fatalf("GET: status %d, %d bytes", r.StatusCode, len(got))
	}
	for k, v := range map[string]string{
		"ETag":           etag,
		"Cache-Control":  "public, max-age=31536000, immutable",
		"Content-Type":   "application/octet-stream",
		"Accept-Ranges":  "bytes",
		"Content-Length": "",
	} {
		if v != "" && r.Header.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, r.Header.Get(k), v)
		}
	}

	// A bare URL may change content: it is revalidated, with the same strong ETag.
	r = f.do(t, "GET", "/weights/default.safetensors", nil)
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, no-cache" || r.Header.Get("ETag") != etag {
		t.Errorf("bare URL: %d %q %q", r.StatusCode, r.Header.Get("Cache-Control"), r.Header.Get("ETag"))
	}

	r = f.do(t, "HEAD", pinned, nil)
	if r.StatusCode != 200 || len(body(t, r)) != 0 || r.Header.Get("Content-Length") != itoa(len(want)) || r.Header.Get("ETag") != etag {
		t.Errorf("HEAD: status %d, length %q", r.StatusCode, r.Header.Get("Content-Length"))
	}

	r = f.do(t, "GET", pinned, http.Header{"If-None-Match": {etag}})
	if r.StatusCode != http.StatusNotModified || len(body(t, r)) != 0 {
		t.Errorf("If-None-Match: status %d", r.StatusCode)
	}
	r = f.do(t, "GET", pinned, http.Header{"If-None-Match": {`"something-else"`}})
	if r.StatusCode != 200 {
		t.Errorf("If-None-Match other: status %d", r.StatusCode)
	}

	r = f.do(t, "GET", pinned, http.Header{"Range": {"bytes=8-23"}})
	if got := body(t, r); r.StatusCode != http.StatusPartialContent || !bytes.Equal(got, want[8:24]) ||
		r.Header.Get("Content-Range") != "bytes 8-23/"+itoa(len(want)) {
		t.Errorf("Range: status %d, %q, %d bytes", r.StatusCode, r.Header.Get("Content-Range"), len(got))
	}
	r = f.do(t, "GET", pinned, http.Header{"Range": {"bytes=999999999-"}})
	if r.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("bad Range: status %d", r.StatusCode)
	}

	// A folder model, served from its file.
	var list api.ModelList
	json.Unmarshal(body(t, f.do(t, "GET", "/api/models", nil)), &list)
	m := list.Models[2]
	disk, _ := os.ReadFile(filepath.Join(f.dir, "mnist-3.safetensors"))
	r = f.do(t, "GET", m.URL, nil)
	if got := body(t, r); r.StatusCode != 200 || !bytes.Equal(got, disk) || r.Header.Get("ETag") != `"`+sha(disk)+`"` {
		t.Errorf("folder model: status %d, %d bytes", r.StatusCode, len(got))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// apiError checks a JSON error answer.
func apiError(t *testing.T, r *http.Response, status int, code string) {
	t.Helper()
	var e api.Error
	b := body(t, r)
	if r.StatusCode != status {
		t.Errorf("status %d, want %d (%s)", r.StatusCode, status, b)
		return
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Code != code || e.Message == "" {
		t.Errorf("body %s: want JSON error with code %q", b, code)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("content type %q", r.Header.Get("Content-Type"))
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		method, target string
		status         int
		code           string
	}{
		{"GET", "/weights/nope.safetensors", 404, "model_not_found"},
		{"GET", "/weights/broken.safetensors", 404, "model_not_found"}, // invalid files are not served
		{"GET", "/weights/readme.txt", 404, "model_not_found"},
		{"GET", "/weights/default", 404, "model_not_found"},
		{"GET", "/weights/a/b.safetensors", 404, "model_not_found"},
		{"GET", "/weights/..%2F..%2Fgo.mod.safetensors", 400, "bad_model_name"},
		{"GET", "/weights/..%5Cgo.mod.safetensors", 400, "bad_model_name"},
		{"GET", "/weights/.hidden.safetensors", 400, "bad_model_name"},
		{"GET", "/weights/bad%20name.safetensors", 400, "bad_model_name"},
		{"GET", "/weights/default.safetensors?v=0000000000000000", 404, "version_gone"},
		{"GET", "/weights/default.safetensors?v=", 404, "version_gone"},
		{"POST", "/weights/default.safetensors", 405, "method_not_allowed"},
		{"DELETE", "/api/models", 405, "method_not_allowed"},
		{"GET", "/api/nothing", 404, "not_found"},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			apiError(t, f.do(t, tc.method, tc.target, nil), tc.status, tc.code)
		})
	}
	// A traversal the mux cleans first never reaches a file either.
	r := f.do(t, "GET", "/weights/../../go.mod", nil)
	if r.StatusCode == 200 {
		t.Errorf("/weights/../../go.mod: status 200")
	}
}

func TestApp(t *testing.T) {
	f := newFixture(t)
	r := f.do(t, "GET", "/", nil)
	page := string(body(t, r))
	if r.StatusCode != 200 || !strings.Contains(page, "GANomaly") || !strings.Contains(page, "/web/app.css") {
		t.Fatalf("GET /: status %d\n%s", r.StatusCode, page)
	}
	// Prerendered with the page's components.
	if !strings.Contains(page, `id="drop-zone"`) {
		t.Errorf("page not prerendered:\n%s", page)
	}
	r = f.do(t, "GET", "/web/app.wasm", http.Header{"Accept-Encoding": {"gzip, br"}})
	gz := body(t, r)
	if r.StatusCode != 200 || r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Content-Type") != "application/wasm" {
		t.Fatalf("app.wasm: %d %v", r.StatusCode, r.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	if !bytes.Equal(raw, webFS()["app.wasm"].Data) {
		t.Errorf("app.wasm does not decompress to the file")
	}
	sw := string(body(t, f.do(t, "GET", "/app-worker.js", nil)))
	for _, want := range []string{"/web/worker.js", "/web/worker.wasm", "/weights/default.safetensors?v=", f.srv.AppVersion(), "ganomaly-weights"} {
		if !strings.Contains(sw, want) {
			t.Errorf("app-worker.js lacks %q", want)
		}
	}
}

// TestServe runs the real listener and checks the graceful shutdown.
func TestServe(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.ServeListener(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/api/models")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v after a clean shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	// Serve on an address in use fails with an error, not a panic.
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	s2, _ := New(Options{Addr: busy.Addr().String(), WebFS: webFS(), DefaultWeights: f.defWeight, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s2.Serve(context.Background()); err == nil {
		t.Error("Serve on a busy address returned nil")
	}
}

func TestNewErrors(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	def := weightsBytes(t, 1, "mnist", 0)
	noWasm := webFS()
	delete(noWasm, "app.wasm")
	for name, opts := range map[string]Options{
		"bad default":      {WebFS: webFS(), DefaultWeights: []byte("junk")},
		"no models folder": {WebFS: webFS(), DefaultWeights: def, ModelsDir: filepath.Join(t.TempDir(), "missing")},
		"no app.wasm":      {WebFS: noWasm, DefaultWeights: def},
		"no web folder":    {WebDir: filepath.Join(t.TempDir(), "missing"), DefaultWeights: def},
	} {
		opts.Logger = quiet
		if _, err := New(opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
