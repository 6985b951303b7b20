package onnxexport

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

// tolerance bounds |ours − onnxruntime| for z, x̂ and ẑ: 1e-5, relative to the
// largest value where values exceed 1 (float32 sums of thousands of products differ
// by order of summation: a few ulps of the largest value).
const tolerance = 1e-5

func toleranceFor(v []float32) float64 { return tolerance * math.Max(1, maxAbs(v)) }

// peersDir holds onnxruntime-node (installed by `make peers`).
func peersDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "peers")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		if os.Getenv("GANOMALY_REQUIRE_ORT") != "" {
			t.Fatalf("onnxruntime-node is not installed in %s (make peers installs it): %v", dir, err)
		}
		t.Skipf("onnxruntime-node not installed in %s: run `make peers` (make test does)", dir)
	}
	return dir
}

func defaultModel(t *testing.T) *model.WeightsFile {
	data, _ := weights.Default()
	f, err := model.ReadWeights(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// randomModel has random weights and random batch-norm statistics far from (0, 1), so
// that a runtime ignoring or misreading them gives visibly different outputs.
func randomModel(cfg model.Config, seed uint64) *model.WeightsFile {
	rng := rand.New(rand.NewPCG(seed, 1))
	params := cfg.Generator().Params()
	tensors := model.InitTensors(params, rng)
	for _, p := range params {
		v := tensors[p.Name]
		switch {
		case p.Buffer && p.Init == "zeros": // running_mean
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 0.3)
			}
		case p.Buffer: // running_var
			for i := range v {
				v[i] = float32(0.2 + 2*rng.Float64())
			}
		case p.Init == "zeros": // BN bias
			for i := range v {
				v[i] = float32(rng.NormFloat64() * 0.1)
			}
		}
	}
	cal, _ := model.CalibrateFromNormals([]float64{0.01, 0.02, 0.05, 0.03}, model.ScoreMSE, 0.9)
	return &model.WeightsFile{Config: cfg, Calibration: cal, Tensors: tensors,
		Provenance: model.Provenance{Dataset: "random", Seed: int64(seed), Notes: "test"}}
}

func TestRoundTripInOnnxruntime(t *testing.T) {
	dir := peersDir(t)
	cases := []struct {
		name string
		f    *model.WeightsFile
		n    int
	}{
		{"default model", defaultModel(t), 5},
		{"3 channels, 64x64, 1 extra layer", randomModel(model.Config{ImageSize: 64, Channels: 3, Latent: 20, Width: 8, ExtraLayers: 1}, 7), 3},
		{"official config, L1 score", func() *model.WeightsFile {
			f := randomModel(model.DefaultConfig(), 3)
			f.Calibration = model.Uncalibrated(model.ScoreL1)
			return f
		}(), 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.f.Config
			tmp := t.TempDir()
			onnxPath := filepath.Join(tmp, "model.onnx")
			if err := WriteFile(onnxPath, tc.f, Options{ProducerVersion: "test"}); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(42, uint64(cfg.ImageSize)))
			x := make([]float32, tc.n*cfg.InputLen())
			for i := range x {
				x[i] = float32(2*rng.Float64() - 1)
			}
			writeF32(t, filepath.Join(tmp, "x.f32"), x)
			cmd := exec.Command("node", filepath.Join(dir, "ort-run.mjs"), onnxPath, filepath.Join(tmp, "x.f32"),
				fmt.Sprint(tc.n), fmt.Sprint(cfg.Channels), fmt.Sprint(cfg.ImageSize), tmp)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("onnxruntime-node failed: %v\n%s", err, out)
			}

			gen, err := model.NewGenerator(cfg, tc.f.Tensors)
			if err != nil {
				t.Fatal(err)
			}
			z, xhat, zhat := gen.Forward(x, tc.n)
			scores := make([]float32, tc.n)
			nz := cfg.Latent
			for i := range scores {
				scores[i] = float32(model.AnomalyScore(z[i*nz:(i+1)*nz], zhat[i*nz:(i+1)*nz], tc.f.Calibration.Score))
			}
			var dims map[string][]int
			readJSON(t, filepath.Join(tmp, "dims.json"), &dims)
			wantDims := map[string][]int{
				"xhat": {tc.n, cfg.Channels, cfg.ImageSize, cfg.ImageSize},
				"z":    {tc.n, nz, 1, 1}, "zhat": {tc.n, nz, 1, 1}, "score": {tc.n},
			}
			for _, o := range []struct {
				name string
				ours []float32
				tol  float64
			}{{"z", z, toleranceFor(z)}, {"xhat", xhat, toleranceFor(xhat)}, {"zhat", zhat, toleranceFor(zhat)}, {"score", scores, toleranceFor(scores)}} {
				if !slices.Equal(dims[o.name], wantDims[o.name]) {
					t.Errorf("%s: onnxruntime gives dims %v, want %v", o.name, dims[o.name], wantDims[o.name])
				}
				theirs := readF32(t, filepath.Join(tmp, o.name+".f32"))
				diff, at := maxDiff(o.ours, theirs)
				t.Logf("%-5s max |ours − onnxruntime| = %.3g (values up to %.3g)", o.name, diff, maxAbs(o.ours))
				if len(theirs) != len(o.ours) || diff > o.tol {
					t.Errorf("%s: max difference %.3g at %d exceeds %.3g (%d values vs %d)", o.name, diff, at, o.tol, len(theirs), len(o.ours))
				}
				if maxAbs(o.ours) < 1e-3 && o.name != "score" {
					t.Errorf("%s: values up to %.3g are too small for the comparison to mean anything", o.name, maxAbs(o.ours))
				}
			}
		})
	}
}

// TestMetadata reads the file back as protobuf: the calibration can be recovered
// from the ONNX file alone and the graph has the official names.
func TestMetadata(t *testing.T) {
	f := defaultModel(t)
	b, err := Marshal(f, Options{ProducerVersion: "v-test"})
	if err != nil {
		t.Fatal(err)
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for _, e := range m.GetMetadataProps() {
		meta[e.GetKey()] = e.GetValue()
	}
	var cal model.Calibration
	if err := json.Unmarshal([]byte(meta[MetaCalibration]), &cal); err != nil || cal != f.Calibration {
		t.Errorf("calibration from metadata = %+v (%v), want %+v", cal, err, f.Calibration)
	}
	var cfg model.Config
	if err := json.Unmarshal([]byte(meta[MetaConfig]), &cfg); err != nil || cfg != f.Config {
		t.Errorf("config from metadata = %+v (%v), want %+v", cfg, err, f.Config)
	}
	if meta[MetaThreshold] == "" || meta[MetaUsage] == "" {
		t.Errorf("threshold or usage missing from metadata: %v", meta)
	}
	if m.GetOpsetImport()[0].GetVersion() < 13 || m.GetProducerVersion() != "v-test" {
		t.Errorf("opset %v, producer version %q", m.GetOpsetImport(), m.GetProducerVersion())
	}
	names := map[string]bool{}
	for _, init := range m.GetGraph().GetInitializer() {
		names[init.GetName()] = true
	}
	for _, p := range f.Config.Generator().Params() {
		if !names[p.Name] {
			t.Errorf("initializer %q (an official parameter name) is missing", p.Name)
		}
	}

	unc := *f
	unc.Calibration = model.Uncalibrated(model.ScoreMSE)
	b, err = Marshal(&unc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.Reset()
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m.GetMetadataProps() {
		if e.GetKey() == MetaThreshold {
			t.Errorf("an uncalibrated model's ONNX file has a threshold %q", e.GetValue())
		}
	}
}

func TestRefusesBadWeights(t *testing.T) {
	f := defaultModel(t)
	bad := *f
	bad.Tensors = map[string][]float32{}
	for k, v := range f.Tensors {
		bad.Tensors[k] = v
	}
	name := f.Config.Generator().Decoder[0].Path + ".weight"
	delete(bad.Tensors, name)
	if _, err := Export(&bad, Options{}); err == nil {
		t.Error("a missing tensor was exported")
	}
	bad.Tensors[name] = []float32{1, 2}
	if _, err := Export(&bad, Options{}); err == nil {
		t.Error("a tensor of the wrong size was exported")
	}
}

func writeF32(t *testing.T, path string, v []float32) {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readF32(t *testing.T, path string) []float32 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func readJSON(t *testing.T, path string, v any) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func maxDiff(a, b []float32) (float64, int) {
	d, at := 0.0, -1
	for i := range min(len(a), len(b)) {
		if x := math.Abs(float64(a[i]) - float64(b[i])); x > d || math.IsNaN(x) {
			d, at = x, i
		}
	}
	return d, at
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}
