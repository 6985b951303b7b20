package model

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

func testWeightsFile(t testing.TB) *WeightsFile {
	t.Helper()
	c := Config{ImageSize: 16, Channels: 1, Latent: 4, Width: 2}
	return &WeightsFile{
		Config:      c,
		Calibration: Calibration{Score: ScoreMSE, Min: 0.01, Max: 0.5, Threshold: 0.2, Method: "test", Samples: 10},
		Provenance:  Provenance{Dataset: "mnist", AnomalyClass: "0", Protocol: "honest", Epochs: 1, Seed: 3, Created: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		Tensors:     randomTensors(c, 5),
	}
}

func TestWeightsRoundTrip(t *testing.T) {
	f := testWeightsFile(t)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := f.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	g, err := ReadWeightsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Config != f.Config || g.Calibration != f.Calibration || g.Provenance != f.Provenance {
		t.Errorf("metadata changed:\n%+v\n%+v", g, f)
	}
	for name, v := range f.Tensors {
		if d := maxAbsDiff(v, g.Tensors[name]); d != 0 || len(g.Tensors[name]) != len(v) {
			t.Errorf("%s changed by %g", name, d)
		}
	}
	if _, err := NewDetector(g); err != nil {
		t.Fatal(err)
	}
}

// mutate re-encodes f's safetensors form after change, bypassing WeightsFile's own
// checks, so that the reader sees what a foreign or damaged writer could produce.
func mutate(t *testing.T, change func(*safetensors.File)) []byte {
	t.Helper()
	st, err := testWeightsFile(t).safetensors()
	if err != nil {
		t.Fatal(err)
	}
	change(st)
	var b strings.Builder
	if err := safetensors.Write(&b, st); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

func TestReadWeightsRefusesMalformed(t *testing.T) {
	good, err := testWeightsFile(t).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, ""},
		{"truncated", good[:len(good)-10], ""},
		{"header only", good[:100], ""},
		{"wrong format", mutate(t, func(f *safetensors.File) { f.Metadata["format"] = "other" }), "not a ganomaly-go weights file"},
		{"no format", mutate(t, func(f *safetensors.File) { delete(f.Metadata, "format") }), "not a ganomaly-go weights file"},
		{"future version", mutate(t, func(f *safetensors.File) { f.Metadata["format_version"] = "2" }), "format version"},
		{"config missing", mutate(t, func(f *safetensors.File) { delete(f.Metadata, "config") }), `"config" is missing`},
		{"NaN weight", mutate(t, func(f *safetensors.File) { f.Tensors[1].Data[2] = float32(math.NaN()) }), "must be finite"},
		{"infinite weight", mutate(t, func(f *safetensors.File) { f.Tensors[0].Data[0] = float32(math.Inf(-1)) }), "holds -Inf at index 0"},
		{"config not JSON", mutate(t, func(f *safetensors.File) { f.Metadata["config"] = "{" }), `"config"`},
		{"config unknown field", mutate(t, func(f *safetensors.File) {
			f.Metadata["config"] = `{"image_size":16,"channels":1,"latent":4,"width":2,"extra_layers":0,"colour":1}`
		}), "unknown field"},
		{"config invalid", mutate(t, func(f *safetensors.File) {
			f.Metadata["config"] = `{"image_size":20,"channels":1,"latent":4,"width":2,"extra_layers":0}`
		}), "image size 20"},
		{"config mismatches tensors", mutate(t, func(f *safetensors.File) {
			f.Metadata["config"] = `{"image_size":16,"channels":1,"latent":5,"width":2,"extra_layers":0}`
		}), "tensor"},
		{"calibration invalid", mutate(t, func(f *safetensors.File) {
			f.Metadata["calibration"] = `{"score":"mse","min":1,"max":0.5,"threshold":0.7}`
		}), "max 0.5 must be greater than min 1"},
		{"calibration unknown score", mutate(t, func(f *safetensors.File) {
			f.Metadata["calibration"] = `{"score":"l3","min":0,"max":1,"threshold":0.5}`
		}), "unknown score"},
		{"provenance missing", mutate(t, func(f *safetensors.File) { delete(f.Metadata, "provenance") }), "provenance"},
		{"missing tensor", mutate(t, func(f *safetensors.File) { f.Tensors = f.Tensors[1:] }), "missing"},
		{"extra tensor", mutate(t, func(f *safetensors.File) {
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: "zzz.weight", Shape: []int{1}, Data: []float32{1}})
		}), `unexpected tensor "zzz.weight"`},
		{"wrong shape", mutate(t, func(f *safetensors.File) {
			tt := &f.Tensors[0]
			tt.Shape = []int{len(tt.Data)}
		}), "has shape"},
	}
	for _, tc := range cases {
		_, err := ReadWeights(tc.data)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		if !errors.Is(err, ErrWeights) {
			t.Errorf("%s: error %v does not wrap ErrWeights", tc.name, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q does not mention %q", tc.name, err, tc.want)
		}
	}
}

func TestWriteWeightsRefusesIncomplete(t *testing.T) {
	f := testWeightsFile(t)
	delete(f.Tensors, f.TensorNames()[0])
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := f.WriteFile(path); err == nil {
		t.Fatal("incomplete weights written")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused write left %s behind", path)
	}
}
