package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// run executes the command line args and returns stdout, stderr and the error.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestParseClasses(t *testing.T) {
	for in, want := range map[string][]int{"0-9": {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "3": {3}, "0,2,5": {0, 2, 5}, "1,3-5,4": {1, 3, 4, 5}} {
		got, err := parseClasses(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("parseClasses(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a", "5-2", "0-10", "-1", "1,,2"} {
		if _, err := parseClasses(bad); err == nil {
			t.Errorf("parseClasses(%q) accepted", bad)
		}
	}
}

// Absurd parameters are refused with a clear message before any work starts.
func TestTrainRefusesAbsurdParameters(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--batch-size", "0"}, "batch size 0"},
		{[]string{"--epochs", "-1"}, "epochs -1"},
		{[]string{"--size", "33"}, "image size 33"},
		{[]string{"--protocol", "quick"}, `unknown protocol "quick"`},
		{[]string{"--dataset", "cifar10"}, `unknown data set "cifar10"`},
		{[]string{"--dataset", "folder"}, "needs Dir"},
		{[]string{"--device", "gpu"}, `device "gpu"`},
		{[]string{"--class", "12"}, "anomaly class 12"},
		{[]string{"--classes", "0-12"}, "--classes"},
		{[]string{"--lr", "0"}, "learning rate 0"},
		{[]string{"--score", "l2"}, `unknown score "l2"`},
		{[]string{"--resume"}, "resume needs a checkpoint directory"},
	} {
		start := time.Now()
		_, _, err := run(t, append([]string{"train", "--out-dir", t.TempDir()}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("train %v: error %v, want one mentioning %q", c.args, err, c.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("train %v: refusing took %v", c.args, d)
		}
	}
}

func writePNG(t *testing.T, path string, bright bool) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 8; y < 20; y++ {
		for x := 12; x < 16; x++ {
			v := uint8(200)
			if bright {
				v = 255
			}
			img.SetGray(x, y, color.Gray{Y: v})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// score runs the pure-Go path: every good file is scored, a bad one gets an error line
// and a non-zero exit at the end.
func TestScore(t *testing.T) {
	dir := t.TempDir()
	a, b, bad := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "bad.png")
	writePNG(t, a, false)
	writePNG(t, b, true)
	if err := os.WriteFile(bad, []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run(t, "score", "--json", a, bad, b, filepath.Join(dir, "missing.png"))
	var quiet quietError
	if !errors.As(err, &quiet) || !strings.Contains(errOut, "2 of 4 files could not be scored") {
		t.Errorf("error %v, stderr %q: want a quiet error counting 2 failures", err, errOut)
	}
	var lines []scoreLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var s scoreLine
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		lines = append(lines, s)
	}
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), out)
	}
	for i, s := range lines {
		failed := i == 1 || i == 3
		if (s.Error != "") != failed {
			t.Errorf("line %d: %+v", i, s)
		}
		if !failed && (s.Score == nil || *s.Score < 0 || *s.Score > 1 || s.Raw <= 0 || s.Verdict == "" || !s.Calibrated) {
			t.Errorf("line %d: score %v raw %v verdict %q", i, s.Score, s.Raw, s.Verdict)
		}
	}
	// The table form names the files and the verdicts.
	out, _, _ = run(t, "score", a, bad)
	if !strings.Contains(out, "a.png") || !strings.Contains(out, "error:") {
		t.Errorf("table output:\n%s", out)
	}
	// A weights file that is not one is an error, not a crash.
	if _, _, err := run(t, "score", "--weights", bad, a); err == nil {
		t.Error("score with a bad weights file succeeded")
	}
}

func TestExportPointsToImport(t *testing.T) {
	_, _, err := run(t, "export", "netG.pth")
	if err == nil || !strings.Contains(err.Error(), "ganomaly import netG.pth") {
		t.Errorf("export netG.pth: %v", err)
	}
}

// TestTrainEvalExport runs the commands end to end on a tiny model: train writes the
// weights and the card, eval finds the same test split through them and reports the
// same AUC, and export turns the checkpoint into the same model.
func TestTrainEvalExport(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny model")
	}
	dir := t.TempDir()
	weights, ckpt := filepath.Join(dir, "tiny.safetensors"), filepath.Join(dir, "ckpt")
	out, _, err := run(t, "train", "--size", "16", "--width", "8", "--latent", "16", "--max-train", "400", "--max-test", "200",
		"--epochs", "2", "--batch-size", "32", "--class", "2", "--seed", "3", "--device", "cpu", "--checkpoint-dir", ckpt, "-o", weights)
	if err != nil {
		t.Fatal(err)
	}
	trained := lastJSON(t, out)
	if trained["kind"] != "result" {
		t.Fatalf("last line of train: %v", trained)
	}
	var card struct {
		Training struct {
			DataSeed int64 `json:"data_seed"`
		} `json:"training"`
		ROC []json.RawMessage `json:"roc"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "tiny.json"))
	if err != nil || json.Unmarshal(b, &card) != nil || card.Training.DataSeed != 3 || len(card.ROC) < 2 {
		t.Fatalf("model card: %v %s", err, b)
	}

	out, _, err = run(t, "eval", "--json", weights)
	if err != nil {
		t.Fatal(err)
	}
	evaluated := lastJSON(t, out)
	auc := func(m map[string]any, key string) float64 { return m[key].(map[string]any)["auc"].(float64) }
	if a, b := auc(trained, "test"), auc(evaluated, "report"); a != b {
		t.Errorf("eval AUC %v, train reported %v", b, a)
	}

	exported := filepath.Join(dir, "exported.safetensors")
	out, _, err = run(t, "export", "--json", "--device", "cpu", "-o", exported, ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := auc(trained, "test"), auc(lastJSON(t, out), "test"); a != b {
		t.Errorf("export AUC %v, train reported %v", b, a)
	}
	if _, _, err := run(t, "score", "--weights", exported, filepath.Join(dir, "tiny.json")); err == nil {
		t.Error("scoring a JSON file as an image succeeded")
	}
}

func lastJSON(t *testing.T, out string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	return m
}

// export --onnx writes an ONNX file whose metadata carries the calibration, refuses to
// overwrite without --force, and points a PyTorch checkpoint to import.
func TestExportONNX(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "default.onnx")
	src := filepath.Join("..", "..", "..", "weights", "default.safetensors")
	stdout, _, err := run(t, "export", "--onnx", "-o", out, src)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "opset 13") || !strings.Contains(stdout, "anomalous when score ≥") {
		t.Errorf("export --onnx said %q", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ganomaly.calibration", "ganomaly.threshold", "encoder1.main.initial-conv-1-16.weight"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the ONNX file lacks %q", want)
		}
	}
	if _, _, err := run(t, "export", "--onnx", "-o", out, src); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("an existing file was overwritten without --force: %v", err)
	}
	if _, _, err := run(t, "export", "--onnx", "--force", "-o", out, src); err != nil {
		t.Errorf("--force: %v", err)
	}
	pth := filepath.Join(dir, "netG.pth")
	os.WriteFile(pth, []byte("PK\x03\x04 not really"), 0o644)
	if _, _, err := run(t, "export", "--onnx", pth); err == nil || !strings.Contains(err.Error(), "ganomaly import") {
		t.Errorf("a .pth given to export --onnx: %v", err)
	}
}
