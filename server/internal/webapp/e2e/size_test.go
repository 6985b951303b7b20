package e2e

import (
	"os"
	"path/filepath"
	"testing"
)

// The app's budget: app.wasm, the program every visit downloads before the page
// works, stays under 2.5 MB gzipped (weights excluded; they are cached apart). The
// budget holds only while the wasm main never reaches net/http or app.Handler, which
// a go-app hello world that does weighs 4.3 MB gzipped.
func TestAppWasmSize(t *testing.T) {
	const budget = 2_500_000
	dir := webDir(t)
	for _, name := range []string{"app.wasm", "worker.wasm"} {
		raw, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		gz, err := os.Stat(filepath.Join(dir, name+".gz"))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.2f MB raw, %.2f MB gzipped", name, float64(raw.Size())/1e6, float64(gz.Size())/1e6)
		if gz.Size() > budget {
			t.Errorf("%s is %.2f MB gzipped, over the %.1f MB budget", name, float64(gz.Size())/1e6, budget/1e6)
		}
	}
}
