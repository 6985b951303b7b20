package httpserver

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ganomaly-go/ganomaly-go/server/internal/jobs"
	"github.com/ganomaly-go/ganomaly-go/server/internal/webapp"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

// Options configure a Server.
type Options struct {
	// Addr is the address to listen on, e.g. ":8080" or "127.0.0.1:0".
	Addr string
	// ModelsDir is where trained models are published: <name>.safetensors and an
	// optional <name>.json model card. Empty: only the embedded default model.
	ModelsDir string
	// WebDir is the folder of the built browser files (default "web"); see
	// server/internal/webapp.
	WebDir string
	// Version is the server's build version, reported by /api/models and in logs.
	Version string
	// Logger receives the access log and the catalog's messages (default slog.Default()).
	Logger *slog.Logger

	// Training jobs (see jobs.go) run when ModelsDir is set, unless NoTraining.
	NoTraining bool
	// Device is the device jobs train on: auto (default), cpu, cuda or cuda:N.
	Device string
	// Engine is the trainer of jobs: "" or "auto" (libtorch when the binary links
	// it, else pure Go), "go" or "libtorch" (model/train's engines).
	Engine string
	// KeepJobs is how many finished jobs are kept with their folders (see
	// jobs.Options.KeepJobs: 0 means jobs.DefaultKeepJobs, negative all).
	KeepJobs int
	// Token is what starting, cancelling and resuming jobs need as a bearer token;
	// empty: New generates one (read it with Server.Token).
	Token string
	// Heartbeat is the interval of an event stream's keep-alive comments (default 15 s).
	Heartbeat time.Duration
	// ReadTimeout bounds reading a whole request, body included, and WriteTimeout
	// writing an ordinary response (defaults 30 s and 2 min): a client that sends or
	// reads one byte a second cannot hold a connection forever. Event streams push
	// their write deadline on at every event; weights downloads get
	// weightsWriteTimeout.
	ReadTimeout, WriteTimeout time.Duration
	// MaxConnsPerClient and MaxStreamsPerClient bound what one IP address may hold
	// open (defaults DefaultMaxConnsPerClient and DefaultMaxStreamsPerClient).
	MaxConnsPerClient, MaxStreamsPerClient int

	// StaticSite builds the app for a static copy (WriteSite): its Train page says
	// that training needs the server.
	StaticSite bool

	// DefaultWeights and DefaultCard replace the embedded default model (tests).
	DefaultWeights, DefaultCard []byte
	// WebFS replaces WebDir (tests).
	WebFS fs.FS
}

// Server is the HTTP server of ganomaly: the browser app, the model list, the weights
// and the training jobs.
type Server struct {
	opts    Options
	log     *slog.Logger
	catalog *catalog
	web     *webapp.App
	handler http.Handler

	jobs      *jobs.Manager // nil: this server does not train
	metrics   *metrics
	streams   *perClient // open event streams by client
	token     string
	heartbeat time.Duration
	// closing is closed by Close: event streams end.
	closing   chan struct{}
	closeOnce sync.Once
	// uploads serialises models published through the API.
	uploads  sync.Mutex
	closeErr error
}

// New checks the default model, the models folder and the web folder, and builds the
// routes. It does not listen yet.
func New(opts Options) (_ *Server, err error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	defWeights, defCard := opts.DefaultWeights, opts.DefaultCard
	if defWeights == nil {
		defWeights, defCard = weights.Default()
	}
	cat, err := newCatalog(opts.ModelsDir, defWeights, defCard, log)
	if err != nil {
		return nil, fmt.Errorf("httpserver: %w", err)
	}
	defer func() {
		if err != nil {
			cat.close()
		}
	}()
	web, err := webapp.New(webapp.Options{WebDir: opts.WebDir, WebFS: opts.WebFS, DefaultModel: cat.def.Model,
		StaticSite: opts.StaticSite, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("httpserver: %w", err)
	}
	s := &Server{opts: opts, log: log, catalog: cat, web: web, token: opts.Token, heartbeat: opts.Heartbeat,
		closing: make(chan struct{})}
	if s.heartbeat <= 0 {
		s.heartbeat = defaultHeartbeat
	}
	if opts.Token != "" && len(opts.Token) < MinTokenLen {
		return nil, fmt.Errorf("httpserver: the training token is %d characters long: use at least %d (or none, and the server makes a random one); pass it in $GANOMALY_TOKEN rather than --token, which other users see in ps", len(opts.Token), MinTokenLen)
	}
	if opts.ModelsDir != "" && !opts.NoTraining {
		if s.jobs, err = jobs.Open(jobs.Options{ModelsDir: opts.ModelsDir, Device: opts.Device, Engine: opts.Engine, KeepJobs: opts.KeepJobs, Logger: log,
			Published: func(string) { cat.changed() }}); err != nil {
			return nil, fmt.Errorf("httpserver: %w", err)
		}
		if s.token == "" {
			if s.token, err = NewToken(); err != nil {
				return nil, fmt.Errorf("httpserver: %w", err)
			}
		}
	}
	s.metrics = newMetrics(s)
	s.streams = newPerClient(cmp.Or(opts.MaxStreamsPerClient, DefaultMaxStreamsPerClient))
	s.handler = s.routes()
	return s, nil
}

// MinTokenLen is the shortest training token New accepts.
const MinTokenLen = 16

// Default deadlines (see Options.ReadTimeout).
const (
	defaultReadTimeout  = 30 * time.Second
	defaultWriteTimeout = 2 * time.Minute
	// weightsWriteTimeout is what a weights download gets: 1 GiB, the largest
	// file served, at 1 MB/s.
	weightsWriteTimeout = 20 * time.Minute
)

// NewToken returns a random token for the training endpoints: 128 bits in hex.
func NewToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// Token is the bearer token that starting, cancelling and resuming jobs need; empty
// when the server does not train.
func (s *Server) Token() string {
	if s.jobs == nil {
		return ""
	}
	return s.token
}

// Training reports whether the server runs training jobs.
func (s *Server) Training() bool { return s.jobs != nil }

// Close interrupts the running training job (it can be resumed at the next start; its
// checkpoint stays), marks the queued ones interrupted, ends the event streams, and
// waits for the job to have stopped or ctx to be done. Serve calls it at shutdown;
// a server used only through Handler must call it itself.
func (s *Server) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		if s.jobs != nil {
			s.closeErr = s.jobs.Close(ctx)
		}
		s.catalog.close()
		close(s.closing)
	})
	return s.closeErr
}

// routes uses the standard library's ServeMux: since Go 1.22 its patterns match
// methods and path wildcards, which is all this API needs, so no router dependency.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthzPath, s.healthz)
	mux.Handle("GET "+MetricsPath, s.metrics.handler())
	mux.HandleFunc("GET "+api.ModelsPath, s.listModels)
	mux.HandleFunc(api.ModelsPath, methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("PUT "+api.ModelsPath+"/{name}", s.needUploads(s.needToken(s.publishModel)))
	mux.HandleFunc(api.ModelsPath+"/{name}", methodNotAllowed("PUT"))
	// A wildcard must fill a whole path segment, so {file} is "<name>.safetensors"
	// and the handler takes the extension off. GET also matches HEAD.
	mux.HandleFunc("GET "+api.WeightsPrefix+"{file}", s.serveWeights)
	mux.HandleFunc(api.WeightsPrefix+"{file}", methodNotAllowed("GET, HEAD"))
	mux.HandleFunc("GET "+api.CardsPrefix+"{file}", s.serveCard)
	mux.HandleFunc(api.CardsPrefix+"{file}", methodNotAllowed("GET, HEAD"))
	s.jobRoutes(mux)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no API endpoint %s; see %s", r.URL.Path, api.ModelsPath))
	})
	mux.HandleFunc(api.WeightsPrefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "model_not_found", "weights URLs are "+api.WeightsPrefix+"<name>"+api.WeightsExt)
	})
	mux.HandleFunc(api.CardsPrefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "model_not_found", "card URLs are "+api.CardsPrefix+"<name>"+api.CardExt)
	})
	mux.Handle("/", s.web.Handler())
	return s.accessLog(securityHeaders(mux))
}

// securityHeaders sets, on every response, what keeps other sites from framing the
// pages (the Train page keeps the token in localStorage, and a framed page can be
// clicked through), browsers from guessing content types, and URLs from leaking in
// Referer headers. Only frame-ancestors of CSP: a full policy would have to allow
// what go-app's pages load inline.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// Handler is the whole server's handler, for tests and for embedding in another server.
func (s *Server) Handler() http.Handler { return s.handler }

// AppVersion is the version of the browser app the server serves.
func (s *Server) AppVersion() string { return s.web.Version() }

// Serve listens on Options.Addr and serves until ctx is cancelled, then shuts down
// gracefully: it stops accepting, lets requests in flight finish (up to 10 seconds)
// and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("httpserver: %w", err)
	}
	return s.ServeListener(ctx, ln)
}

// shutdownGrace is how long requests in flight get to finish at shutdown; a weights
// download on a slow link may take longer and is cut.
const shutdownGrace = 10 * time.Second

// ServeListener is Serve on a listener the caller opened (for a port chosen by the
// system: listen on "127.0.0.1:0" and read ln.Addr()).
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	readTimeout, writeTimeout := s.opts.ReadTimeout, s.opts.WriteTimeout
	if readTimeout <= 0 {
		readTimeout = defaultReadTimeout
	}
	if writeTimeout <= 0 {
		writeTimeout = defaultWriteTimeout
	}
	ln = &limitListener{Listener: ln, conns: newPerClient(cmp.Or(s.opts.MaxConnsPerClient, DefaultMaxConnsPerClient))}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: min(10*time.Second, readTimeout),
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("serving", "url", "http://"+ln.Addr().String(), "version", s.opts.Version,
		"app_version", s.web.Version(), "models_dir", s.opts.ModelsDir)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		cctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		s.Close(cctx) // a running job is interrupted, resumable at the next start
		return fmt.Errorf("httpserver: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// The running job first: it stops between two steps and is saved as interrupted,
	// and its end event ends the event streams, which Shutdown would otherwise wait for.
	if err := s.Close(sctx); err != nil {
		s.log.Error("training job did not stop in time", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		return fmt.Errorf("httpserver: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("httpserver: %w", err)
	}
	return nil
}

// listModels answers the model list: summaries, each with the URL of its card. The
// strong ETag (a hash of the body) lets a client that polls get a 304 while nothing
// changed.
func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	b, err := json.Marshal(api.ModelList{
		Models:        s.catalog.list(),
		ServerVersion: s.opts.Version,
		AppVersion:    s.web.Version(),
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "cannot list the models")
		return
	}
	sum := sha256.Sum256(b)
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	h.Set("Content-Type", "application/json; charset=utf-8")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(append(b, '\n')))
}

// modelOf finds the model a file URL names ("<name>" + ext in its {file} wildcard);
// otherwise it answers the error and ok is false. what names the URLs in messages.
func (s *Server) modelOf(w http.ResponseWriter, r *http.Request, ext, what string) (name string, e *entry, ok bool) {
	file := r.PathValue("file")
	name, ok = strings.CutSuffix(file, ext)
	if !ok {
		writeError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("%q: %s URLs end in %s", file, what, ext))
		return "", nil, false
	}
	if err := api.CheckName(name); err != nil {
		writeError(w, http.StatusBadRequest, "bad_model_name", err.Error())
		return "", nil, false
	}
	if e, ok = s.catalog.lookup(name); !ok {
		writeError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("no model %q; %s lists the models", name, api.ModelsPath))
		return "", nil, false
	}
	return name, e, true
}

// serveCard answers GET and HEAD /cards/<name>.json[?v=<version>]: a model's card as
// published, cached as the weights are (see serveWeights).
func (s *Server) serveCard(w http.ResponseWriter, r *http.Request) {
	name, e, ok := s.modelOf(w, r, api.CardExt, "card")
	if !ok {
		return
	}
	if e.card == nil {
		writeError(w, http.StatusNotFound, "card_not_found", fmt.Sprintf("model %q has no model card", name))
		return
	}
	h := w.Header()
	if r.URL.Query().Has(api.VersionParam) {
		v := r.URL.Query().Get(api.VersionParam)
		if len(v) < 8 || !strings.HasPrefix(e.CardSHA256, strings.ToLower(v)) {
			writeError(w, http.StatusNotFound, "version_gone", fmt.Sprintf("the card of %q no longer has version %q; %s has its current URL", name, v, api.ModelsPath))
			return
		}
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	h.Set("ETag", `"`+e.CardSHA256+`"`)
	h.Set("Content-Type", "application/json; charset=utf-8")
	http.ServeContent(w, r, "", e.cardModTime, bytes.NewReader(e.card))
}

// serveWeights answers GET and HEAD /weights/<name>.safetensors[?v=<version>].
//
// Caching: a URL with ?v= pins the content (the server refuses it once the model has
// other content), so it is public and immutable for a year; the app only uses such
// URLs (api.Model.URL). A bare URL may change content when a model is republished under
// its name, so it must be revalidated (no-cache); the strong ETag, the quoted SHA-256,
// makes that a 304. Ranges and HEAD come from http.ServeContent.
func (s *Server) serveWeights(w http.ResponseWriter, r *http.Request) {
	name, e, ok := s.modelOf(w, r, api.WeightsExt, "weights")
	if !ok {
		return
	}
	e, body, err := s.catalog.open(e)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("model %q was just removed", name))
			return
		}
		s.log.Error("cannot read weights", "name", name, "err", err)
		writeError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("cannot read the weights of %q", name))
		return
	}
	defer body.Close()
	h := w.Header()
	pinned := r.URL.Query().Has(api.VersionParam)
	if pinned {
		v := r.URL.Query().Get(api.VersionParam)
		if len(v) < 8 || !strings.HasPrefix(e.SHA256, strings.ToLower(v)) {
			writeError(w, http.StatusNotFound, "version_gone", fmt.Sprintf("model %q no longer has version %q: it is now %s; %s has its current URL", name, v, e.Version(), api.ModelsPath))
			return
		}
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	h.Set("ETag", `"`+e.SHA256+`"`)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", `attachment; filename="`+name+api.WeightsExt+`"`)
	// A weights file may be large and the link slow: more than an ordinary response.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(weightsWriteTimeout))
	http.ServeContent(w, r, "", e.Modified, body)
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, allow))
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, api.Error{Code: code, Message: msg})
}

// accessLog logs each request at Info, or at Warn for server errors.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.metrics.observe(r, rec.status, time.Since(start))
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "took", time.Since(start).Round(time.Microsecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
