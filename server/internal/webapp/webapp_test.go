package webapp

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/wasm/ui"
)

var (
	appWasm    = bytes.Repeat([]byte("\x00asm app "), 8192)
	workerWasm = bytes.Repeat([]byte("\x00asm worker "), 8192)
	defModel   = api.Model{Name: "default", Default: true, URL: "/weights/default.safetensors?v=0123456789abcdef",
		SHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Size: 42}
)

func testFS() fstest.MapFS {
	fs := fstest.MapFS{
		"app.wasm":           {Data: appWasm},
		"app.wasm.gz":        {Data: gzipBytes(appWasm)},
		"worker.wasm":        {Data: workerWasm}, // no .gz: compressed at start-up
		"worker-scalar.wasm": {Data: workerWasm},
		"worker.js":          {Data: []byte("importScripts('/wasm_exec.js');")},
		"app.css":            {Data: []byte("body{}")},
		".hidden":            {Data: []byte("secret")},
	}
	for _, name := range []string{"icon.svg", "icon-192.png", "icon-512.png"} {
		fs[name] = &fstest.MapFile{Data: []byte(name)}
	}
	return fs
}

func newApp(t *testing.T, fs fstest.MapFS) (*App, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	a, err := New(Options{WebFS: fs, DefaultModel: defModel, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return a, &logs
}

func get(t *testing.T, h http.Handler, target string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := rec.Result()
	b, _ := io.ReadAll(r.Body)
	return r, b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWasmPrecompressed(t *testing.T) {
	a, logs := newApp(t, testFS())
	for _, tc := range []struct{ name, raw string }{{"app.wasm", string(appWasm)}, {"worker.wasm", string(workerWasm)}} {
		r, b := get(t, a, "/web/"+tc.name, http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
		if r.StatusCode != 200 || r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Vary") != "Accept-Encoding" ||
			r.Header.Get("Content-Type") != "application/wasm" {
			t.Fatalf("%s: %d %v", tc.name, r.StatusCode, r.Header)
		}
		if string(gunzip(t, b)) != tc.raw {
			t.Errorf("%s: gzip body does not decode to the file", tc.name)
		}
		if r.Header.Get(UncompressedLengthHeader) != itoa(len(tc.raw)) || r.Header.Get("Content-Length") != itoa(len(b)) {
			t.Errorf("%s: lengths %q %q", tc.name, r.Header.Get(UncompressedLengthHeader), r.Header.Get("Content-Length"))
		}
		etag := r.Header.Get("ETag")
		if r2, _ := get(t, a, "/web/"+tc.name, http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {etag}}); r2.StatusCode != 304 {
			t.Errorf("%s: If-None-Match gave %d", tc.name, r2.StatusCode)
		}
		// Without gzip (or refused with q=0): the raw file, with another ETag.
		for _, ae := range []string{"", "identity", "gzip;q=0, br"} {
			r, b := get(t, a, "/web/"+tc.name, http.Header{"Accept-Encoding": {ae}})
			if r.Header.Get("Content-Encoding") != "" || string(b) != tc.raw || r.Header.Get("ETag") == etag {
				t.Errorf("%s with Accept-Encoding %q: encoding %q, %d bytes", tc.name, ae, r.Header.Get("Content-Encoding"), len(b))
			}
		}
	}
	if !strings.Contains(logs.String(), "worker.wasm") || !strings.Contains(logs.String(), "compressed at start-up") {
		t.Errorf("compressing worker.wasm at start-up was not logged:\n%s", logs)
	}
}

func TestStaleGzipIgnored(t *testing.T) {
	fs := testFS()
	fs["app.wasm.gz"] = &fstest.MapFile{Data: gzipBytes([]byte("an older build"))}
	a, logs := newApp(t, fs)
	r, b := get(t, a, "/web/app.wasm", http.Header{"Accept-Encoding": {"gzip"}})
	if string(gunzip(t, b)) != string(appWasm) || r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("a stale app.wasm.gz was served")
	}
	if !strings.Contains(logs.String(), "stale") {
		t.Errorf("stale .gz not logged:\n%s", logs)
	}
}

func TestAssets(t *testing.T) {
	a, _ := newApp(t, testFS())
	r, b := get(t, a, "/web/app.css", nil)
	if r.StatusCode != 200 || string(b) != "body{}" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") ||
		r.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("app.css: %d %v", r.StatusCode, r.Header)
	}
	for _, target := range []string{"/web/missing.css", "/web/.hidden", "/web/app.wasm.gz", "/web/../go.mod", "/web/", "/web/./app.css"} {
		if r, _ := get(t, a, target, nil); r.StatusCode != 404 {
			t.Errorf("%s: status %d, want 404", target, r.StatusCode)
		}
	}
	req := httptest.NewRequest("POST", "/web/app.css", nil)
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != 405 {
		t.Errorf("POST: %d", rec.Code)
	}
}

// go-app would fetch /robots.txt from the address in the Host header; the app serves
// it from the web folder and never makes a request.
func TestNoProxyFetch(t *testing.T) {
	fs := testFS()
	fs["robots.txt"] = &fstest.MapFile{Data: []byte("User-agent: *\n")}
	a, _ := newApp(t, fs)
	req := httptest.NewRequest("GET", "/robots.txt", nil)
	req.Host = "169.254.169.254"
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.String() != "User-agent: *\n" {
		t.Errorf("robots.txt: %d %q", rec.Code, rec.Body.String())
	}
	for _, p := range []string{"/sitemap.xml", "/ads.txt"} {
		req := httptest.NewRequest("GET", p, nil)
		req.Host = "127.0.0.1:1"
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != 404 {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
}

func TestMissingFiles(t *testing.T) {
	for _, name := range requiredAssets {
		fs := testFS()
		delete(fs, name)
		_, err := New(Options{WebFS: fs, DefaultModel: defModel, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v", name, err)
		}
	}
}

// The version must not change with a restart, and must change with anything the
// browser runs.
func TestVersion(t *testing.T) {
	a1, _ := newApp(t, testFS())
	a2, _ := newApp(t, testFS())
	if a1.Version() != a2.Version() || len(a1.Version()) != 16 {
		t.Fatalf("versions %q and %q for the same files", a1.Version(), a2.Version())
	}
	fs := testFS()
	fs["app.css"] = &fstest.MapFile{Data: []byte("body{color:red}")}
	if a3, _ := newApp(t, fs); a3.Version() == a1.Version() {
		t.Error("changing app.css did not change the version")
	}
	other := defModel
	other.SHA256 = strings.Repeat("f", 64)
	other.URL = api.WeightsURL("default", other.SHA256)
	a4, err := New(Options{WebFS: testFS(), DefaultModel: other, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if a4.Version() == a1.Version() {
		t.Error("changing the default model did not change the version")
	}
}

func TestGeneratedFiles(t *testing.T) {
	a, _ := newApp(t, testFS())
	_, sw := get(t, a, "/app-worker.js", nil)
	for _, want := range []string{
		`"app-" + "` + a.Version() + `"`, ui.WorkerScript, ui.WorkerWasm, defModel.URL, "/web/app.wasm", "/web/app.css",
		"/web/icon-512.png", `!key.startsWith("` + ui.WeightsCache + `")`, `url.pathname.startsWith("/api/")`,
	} {
		if !strings.Contains(string(sw), want) {
			t.Errorf("app-worker.js lacks %q", want)
		}
	}
	_, js := get(t, a, "/app.js", nil)
	if !strings.Contains(string(js), UncompressedLengthHeader) || !strings.Contains(string(js), ui.EnvDefaultModel) {
		t.Errorf("app.js lacks the length header or the default model")
	}
	_, mf := get(t, a, "/manifest.webmanifest", nil)
	var manifest struct {
		Name      string `json:"name"`
		ShortName string `json:"short_name"`
		Icons     []struct{ Src, Sizes string }
	}
	if err := json.Unmarshal(mf, &manifest); err != nil {
		t.Fatalf("manifest: %v\n%s", err, mf)
	}
	if manifest.Name != "GANomaly anomaly check" || manifest.ShortName != "GANomaly" || len(manifest.Icons) < 2 {
		t.Errorf("manifest %+v", manifest)
	}
	r, page := get(t, a, "/", nil)
	if r.StatusCode != 200 || !strings.Contains(string(page), `id="drop-zone"`) || !strings.Contains(string(page), "<title>GANomaly") {
		t.Errorf("page: %d\n%s", r.StatusCode, page)
	}
	if r, _ := get(t, a, "/no-such-page", nil); r.StatusCode != 404 {
		t.Errorf("unknown page: %d", r.StatusCode)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "GZIP": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "gzip; q=0.0": false,
		"*": true, "*;q=0": false, "br": false, "x-gzip": false, "identity, *;q=0.1": true,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v", h, got)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
