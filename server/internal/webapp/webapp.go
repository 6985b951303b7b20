package webapp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/wasm/ui"
)

// Options configure the web app.
type Options struct {
	// WebDir is the folder of the browser's files, served under /web/: the built
	// app.wasm, worker.wasm and worker-scalar.wasm (with their .gz forms beside them),
	// worker.js, app.css and the icons. Default "web", the repository's folder.
	WebDir string
	// WebFS, when set, is used instead of WebDir (tests, embedding).
	WebFS fs.FS
	// DefaultModel describes the embedded default model. Its weights URL is cached
	// by the service worker at install, so that a first visit is enough to score
	// offline.
	DefaultModel api.Model
	// AutoUpdateInterval is how often an open app asks for a new version.
	// Default 10 minutes; negative disables (the browser still checks on navigation).
	AutoUpdateInterval time.Duration
	// StaticSite marks the app as a static copy with no server behind it (see
	// ui.EnvStaticSite): its Train page says training needs the server.
	StaticSite bool
	Logger     *slog.Logger
}

// The app's name and description, shared by the handler (page, manifest) and the
// static entry index.html at the repository root, which a test keeps in step.
const (
	AppName        = "GANomaly anomaly check"
	AppShortName   = "GANomaly"
	AppTitle       = "GANomaly: anomaly check in your browser"
	AppDescription = "Drop images to score them for anomalies with a GANomaly model. Scoring runs on your device, also offline."
	themeColor     = "#1d2b4f"
)

// BuildCommands is what produces the files New needs, for error messages.
const BuildCommands = "GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o web/app.wasm ./wasm && " +
	"GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o web/worker.wasm ./wasm/worker && " +
	"GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o web/worker-scalar.wasm ./wasm/worker && " +
	"gzip -9kf web/app.wasm web/worker.wasm web/worker-scalar.wasm"

// App serves the browser app: the pages (prerendered by go-app), go-app's generated
// files (app.js, app-worker.js, manifest, wasm_exec.js) and /web/.
type App struct {
	handler *app.Handler
	assets  map[string]*asset
	version string
	log     *slog.Logger
}

// Files that must be in the web folder: the service worker caches them all at install
// and its install fails as a whole if one is missing, which would leave the app
// without offline support and say nothing.
var requiredAssets = []string{
	"app.wasm", "worker.wasm", "worker-scalar.wasm", "worker.js", "app.css", "icon.svg", "icon-192.png", "icon-512.png",
}

// New reads the web folder and builds the go-app handler.
func New(opts Options) (*App, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	fsys := opts.WebFS
	if fsys == nil {
		dir := opts.WebDir
		if dir == "" {
			dir = "web"
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("webapp: web folder %q not found: run the server from the repository root or set its web folder", dir)
		}
		fsys = os.DirFS(dir)
	}
	assets, err := loadAssets(fsys, log)
	if err != nil {
		return nil, fmt.Errorf("webapp: reading the web folder: %w", err)
	}
	for _, name := range requiredAssets {
		if _, ok := assets[name]; !ok {
			if strings.HasSuffix(name, ".wasm") {
				return nil, fmt.Errorf("webapp: web/%s is missing: build the browser app first (make web, or: %s)", name, BuildCommands)
			}
			return nil, fmt.Errorf("webapp: web/%s is missing from the web folder", name)
		}
	}
	if opts.DefaultModel.URL == "" {
		return nil, errors.New("webapp: no default model given")
	}
	defaultJSON, err := json.Marshal(opts.DefaultModel)
	if err != nil {
		return nil, err
	}
	env := app.Environment{ui.EnvDefaultModel: string(defaultJSON)}
	if opts.StaticSite {
		env[ui.EnvStaticSite] = "1"
	}
	sw, err := serviceWorkerTemplate()
	if err != nil {
		return nil, err
	}
	// Fetched by the service worker at install: the kernel worker (script, wasm), the
	// default weights and card, and the MNIST pack (when the web folder has it: make web writes
	// it), so that a first visit is enough to score and to train offline.
	cacheable := []string{ui.WorkerScript, ui.WorkerWasm, ui.WorkerScalarWasm, "/web/icon.svg", opts.DefaultModel.URL}
	if opts.DefaultModel.CardURL != "" {
		cacheable = append(cacheable, opts.DefaultModel.CardURL) // the teaching view's panels
	}
	if _, ok := assets[strings.TrimPrefix(ui.PackURL, "/web/")]; ok {
		cacheable = append(cacheable, ui.PackURL)
	}
	for _, sample := range ui.Samples() { // the check page's sample digits, offline too
		if _, ok := assets[strings.TrimPrefix(sample.URL, "/web/")]; ok {
			cacheable = append(cacheable, sample.URL)
		}
	}
	interval := opts.AutoUpdateInterval
	switch {
	case interval == 0:
		interval = 10 * time.Minute
	case interval < 0:
		interval = 0
	}

	h := &app.Handler{
		Name:            AppName,
		ShortName:       AppShortName,
		Title:           AppTitle,
		Description:     AppDescription,
		Keywords:        []string{"GANomaly", "anomaly detection", "GAN", "WebAssembly", "Go"},
		Lang:            "en",
		BackgroundColor: "#f5f6f8",
		ThemeColor:      themeColor,
		LoadingLabel:    "Loading the app: {progress}%",
		Icon: app.Icon{
			Default:    "/web/icon-192.png",
			Large:      "/web/icon-512.png",
			SVG:        "/web/icon.svg",
			AppleTouch: "/web/icon-192.png",
		},
		Styles:                  []string{"/web/app.css"},
		CacheableResources:      cacheable,
		Env:                     env,
		WasmContentLengthHeader: UncompressedLengthHeader,
		AutoUpdateInterval:      interval,
		ServiceWorkerTemplate:   sw,
		Resources:               resources{},
	}
	h.Version = appVersion(assets, h)
	ui.Routes()
	a := &App{handler: h, assets: assets, version: h.Version, log: log}
	log.Info("web app ready", "version", a.version,
		"app_wasm_bytes", len(assets["app.wasm"].data), "app_wasm_gzip_bytes", len(assets["app.wasm"].gz),
		"worker_wasm_bytes", len(assets["worker.wasm"].data), "worker_wasm_gzip_bytes", len(assets["worker.wasm"].gz))
	return a, nil
}

// appVersion hashes everything the browser caches that this server decides: the web
// files and the handler's settings (which shape the pages, app.js, the manifest and
// the service worker). The same build gives the same version on every start, so a
// restart is not an update; any change to what the browser runs is one.
func appVersion(assets map[string]*asset, h *app.Handler) string {
	hash := sha256.New()
	names := make([]string, 0, len(assets))
	for name := range assets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(hash, "%s %s\n", name, assets[name].sha256)
	}
	settings, _ := json.Marshal([]any{h.Name, h.ShortName, h.Title, h.Description, h.Keywords, h.Lang,
		h.BackgroundColor, h.ThemeColor, h.LoadingLabel, h.Icon, h.Styles, h.CacheableResources, h.Env,
		h.WasmContentLengthHeader, h.AutoUpdateInterval, h.ServiceWorkerTemplate})
	hash.Write(settings)
	return hex.EncodeToString(hash.Sum(nil))[:16]
}

// AssetNames lists the files served under /web/, sorted.
func (a *App) AssetNames() []string {
	names := make([]string, 0, len(a.assets))
	for name := range a.assets {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Version is the app's version: what the service worker's cache is named after.
func (a *App) Version() string { return a.version }

// Handler returns the app's handler: /web/ from memory, everything else through
// go-app (pages, app.js, app-worker.js, manifest.webmanifest, wasm_exec.js, app.css).
func (a *App) Handler() http.Handler { return a }

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/web/"); ok {
		a.serveAsset(w, r, name)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/robots.txt", "/sitemap.xml", "/ads.txt":
		// go-app answers these by fetching http://<Host header>/web/<file> from the
		// server itself: a request with a forged Host would make the server fetch
		// from any address. Serve them from the web folder instead.
		a.serveAsset(w, r, strings.TrimPrefix(r.URL.Path, "/"))
		return
	}
	a.handler.ServeHTTP(w, r)
}

func (a *App) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Assets are looked up by exact name in memory: no file system path is ever
	// built from the request.
	asset, ok := a.assets[path.Clean(name)]
	if !ok || path.Clean(name) != name {
		http.NotFound(w, r)
		return
	}
	asset.serve(w, r)
}

// resources tells go-app where its files are: the package's own at the root, static
// files and app.wasm under /web/. It is not an http.Handler: App serves /web/ itself.
type resources struct{}

func (resources) Package() string { return "" }
func (resources) Static() string  { return "" }
func (resources) AppWASM() string { return "/web/app.wasm" }

// serviceWorkerTemplate is go-app's service worker with three changes:
//   - activation deletes the caches of older app versions but keeps the app's
//     weights cache (ui.WeightsCache), so models fetched once stay usable offline
//     across updates;
//   - requests to /api/ go to the network: the default worker is cache-first for
//     everything, and an API answer must never come from a cache;
//   - a page that is not cached (/teach, /train, any URL with a query), opened or
//     reloaded offline, gets the cached "/": the app routes on the client, so every
//     route opens offline (go-app pre-caches only "/").
//
// The changes are applied to go-app's own template and fail loudly if it changes
// shape, rather than silently falling out of step with a newer go-app.
func serviceWorkerTemplate() (string, error) {
	sw := app.DefaultAppWorkerJS
	for _, edit := range []struct{ old, new string }{
		{
			`if (key !== cacheName) {`,
			`if (key !== cacheName && !key.startsWith("` + ui.WeightsCache + `")) {`,
		},
		{
			`return response || fetch(event.request);`,
			`if (response) {
        return response;
      }
      return fetch(event.request).catch((err) => {
        // ganomaly-go: offline, any page of the app is the app itself.
        if (event.request.mode === "navigate") {
          return caches.match("/").then((page) => page || Promise.reject(err));
        }
        throw err;
      });`,
		},
		{
			`self.addEventListener("fetch", (event) => {
  event.respondWith(`,
			`self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin === self.location.origin && url.pathname.startsWith("/api/")) {
    return; // ganomaly-go: API answers come from the network, never from a cache
  }
  event.respondWith(`,
		},
	} {
		if n := strings.Count(sw, edit.old); n != 1 {
			return "", fmt.Errorf("webapp: go-app's service worker template has changed (%q found %d times, want 1): update serviceWorkerTemplate", edit.old, n)
		}
		sw = strings.Replace(sw, edit.old, edit.new, 1)
	}
	return sw, nil
}
