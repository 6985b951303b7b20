package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// pthFixture copies a checkpoint from model/pth/testdata into dir.
func pthFixture(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "model", "pth", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pytorchScores are the raw scores mean((z − ẑ)²) of PyTorch's z and ẑ for the inputs
// of a_outputs.safetensors, and those inputs.
func pytorchScores(t *testing.T) (x []float32, scores []float64) {
	t.Helper()
	st, err := safetensors.ReadFile(filepath.Join("..", "..", "..", "model", "pth", "testdata", "a_outputs.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) safetensors.Tensor {
		v, ok := st.Tensor(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		return v
	}
	z, zhat := get("z"), get("zhat")
	nz := z.Shape[1]
	for i := range z.Shape[0] {
		scores = append(scores, model.AnomalyScore(z.Data[i*nz:(i+1)*nz], zhat.Data[i*nz:(i+1)*nz], model.ScoreMSE))
	}
	return get("x").Data, scores
}

func TestImport(t *testing.T) {
	dir := t.TempDir()
	src := pthFixture(t, dir, "a_netG.pth")
	out := filepath.Join(dir, "a_netG.safetensors")

	// Without calibration: written beside the checkpoint, and said to be uncalibrated.
	stdout, _, err := run(t, "import", src)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"32×32, 1 channel(s), latent 16, width 8", "epoch 3", "wrote " + out, "UNCALIBRATED", "--calibrate-dir"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output does not say %q:\n%s", want, stdout)
		}
	}
	f, err := model.ReadWeightsFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if f.Calibration.Calibrated() || f.Config != (model.Config{ImageSize: 32, Channels: 1, Latent: 16, Width: 8}) {
		t.Errorf("calibration %+v, config %+v", f.Calibration, f.Config)
	}
	// The file scores as PyTorch does.
	det, err := model.NewDetector(f)
	if err != nil {
		t.Fatal(err)
	}
	x, want := pytorchScores(t)
	got, err := det.Score(nil, x, len(want))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if d := math.Abs(r.Raw - want[i]); d > 1e-5*max(1, want[i]) || r.Calibrated || r.Anomalous {
			t.Errorf("image %d: raw %v (calibrated %v), PyTorch's z and ẑ give %v", i, r.Raw, r.Calibrated, want[i])
		}
	}

	// score shows raw scores and no verdict.
	png := filepath.Join(dir, "digit.png")
	writePNG(t, png, true)
	stdout, _, err = run(t, "score", "--json", "--weights", out, png)
	if err != nil {
		t.Fatal(err)
	}
	var line scoreLine
	if err := json.Unmarshal([]byte(stdout), &line); err != nil {
		t.Fatal(err)
	}
	if line.Score != nil || line.Calibrated || line.Anomalous || line.Verdict != verdictUncalibrated || !(line.Raw > 0) {
		t.Errorf("score of an uncalibrated model: %s", stdout)
	}
	stdout, _, _ = run(t, "score", "--weights", out, png)
	if !strings.Contains(stdout, "UNCALIBRATED") || !strings.Contains(stdout, verdictUncalibrated) || strings.Contains(stdout, "normal\n") {
		t.Errorf("score table of an uncalibrated model:\n%s", stdout)
	}

	// An existing file is kept without --force.
	if _, _, err := run(t, "import", src); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("import over an existing file: %v", err)
	}
}

func TestImportCalibrateDir(t *testing.T) {
	dir := t.TempDir()
	src := pthFixture(t, dir, "b_netG.pth")
	out := filepath.Join(dir, "models", "b.safetensors")
	normals := filepath.Join(dir, "normals")
	if err := os.Mkdir(normals, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, bright := range []bool{false, true, false, true, true} {
		writePNG(t, filepath.Join(normals, string(rune('a'+i))+".png"), bright)
	}
	broken := filepath.Join(normals, "broken.png")
	if err := os.WriteFile(broken, []byte("not a PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(normals, "notes.txt"), []byte("ignored"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A card left from an earlier model at the output's place is removed with --force.
	stale := filepath.Join(dir, "models", "b.json")
	if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte(`{"title":"another model"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, "import", "--calibrate-dir", normals, "-o", out, src); err == nil || !strings.Contains(err.Error(), "b.json exists") {
		t.Errorf("import beside a stale card without --force: %v", err)
	}
	stdout, _, err := run(t, "import", "--json", "--force", "--calibrate-dir", normals, "-o", out, src)
	if err != nil {
		t.Fatal(err)
	}
	var res importResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "broken.png") || res.RemovedCard != stale {
		t.Errorf("result %+v", res)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale card still there: %v", err)
	}
	f, err := model.ReadWeightsFile(out)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Calibration
	if !c.Calibrated() || c.Samples != 5 || !(c.Max > c.Min) || c.Threshold < c.Min || c.Threshold > c.Max || f.Provenance.Dataset != "folder:normals" {
		t.Errorf("calibration %+v, provenance %+v", c, f.Provenance)
	}
	// The calibration is of this model's raw scores on those images.
	det, err := model.NewDetector(f)
	if err != nil {
		t.Fatal(err)
	}
	var scores []float64
	for i := range 5 {
		x, err := readImage(filepath.Join(normals, string(rune('a'+i))+".png"), f.Config)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := det.Score(nil, x, 1)
		if err != nil {
			t.Fatal(err)
		}
		scores = append(scores, rs[0].Raw)
	}
	want, err := model.CalibrateFromNormals(scores, model.ScoreMSE, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	// Batches of 64 and single images sum in different orders: equal to float32 rounding.
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Abs(b) }
	if !near(c.Min, want.Min) || !near(c.Max, want.Max) || !near(c.Threshold, want.Threshold) {
		t.Errorf("calibration %v..%v at %v, the images score %v..%v at %v", c.Min, c.Max, c.Threshold, want.Min, want.Max, want.Threshold)
	}

	// Fewer than 2 usable images are refused.
	one := filepath.Join(dir, "one")
	if err := os.Mkdir(one, 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(one, "a.png"), false)
	if _, _, err := run(t, "import", "--force", "--calibrate-dir", one, "-o", out, src); err == nil || !strings.Contains(err.Error(), "at least 2") {
		t.Errorf("calibrating on one image: %v", err)
	}
}

func TestImportRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{pthFixture(t, dir, "bad_os_system.pth")}, "posix.system"},
		{[]string{pthFixture(t, dir, "bad_netD.pth")}, "discriminator"},
		{[]string{pthFixture(t, dir, "bad_nan.pth")}, "NaN"},
		{[]string{filepath.Join(dir, "missing.pth")}, "no such file"},
		{[]string{"--calibrate", "mnist", pthFixture(t, dir, "tiny_netG.pth")}, "--calibrate and --class go together"},
		{[]string{"--calibrate", "cifar10", "--class", "1", "x.pth"}, `--calibrate "cifar10"`},
		{[]string{"--calibrate", "mnist", "--class", "1", "--calibrate-dir", dir, "x.pth"}, "not both"},
		{[]string{"--calibration-quantile", "1", "x.pth"}, "--calibration-quantile 1"},
		{[]string{"-o", filepath.Join(dir, "tiny_netG.pth"), filepath.Join(dir, "tiny_netG.pth")}, "would replace the checkpoint"},
	} {
		_, _, err := run(t, append([]string{"import"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("import %v: %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.safetensors")); len(matches) > 0 {
		t.Errorf("refused imports wrote %v", matches)
	}
}

// --calibrate mnist scores the validation normals of the split that ganomaly train
// makes (about 5000 images): a few seconds, most of them reading MNIST.
func TestImportCalibrateMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads MNIST")
	}
	dir := t.TempDir()
	src := pthFixture(t, dir, "a_netG.pth")
	stdout, _, err := run(t, "import", "--json", "--calibrate", "mnist", "--class", "3", src)
	if err != nil {
		t.Fatal(err)
	}
	var res importResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	f, err := model.ReadWeightsFile(res.Weights)
	if err != nil {
		t.Fatal(err)
	}
	c, p := f.Calibration, f.Provenance
	// 9 classes of MNIST without the 3s, pooled, 80 % for train, 10 % of that for validation.
	if !c.Calibrated() || c.Samples < 4500 || c.Samples > 5500 || p.Dataset != "mnist" || p.AnomalyClass != "3" || p.Seed != 0 {
		t.Errorf("calibration %+v, provenance %+v", c, p)
	}
	t.Logf("calibrated on %s: min %.4g, max %.4g, threshold %.4g", res.CalibratedOn, c.Min, c.Max, c.Threshold)
}
