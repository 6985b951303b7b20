package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// Weights files are safetensors files holding the generator's float32 tensors by their
// official names, with this metadata (all values are strings, as safetensors requires):
//
//	format          "ganomaly-go/weights"
//	format_version  "1"
//	config          JSON of Config
//	calibration     JSON of Calibration
//	provenance      JSON of Provenance
//
// The discriminator is not in it: scoring does not use it (training checkpoints keep it).
const (
	WeightsFormat        = "ganomaly-go/weights"
	WeightsFormatVersion = 1
)

// Provenance records where a model came from, for its model card.
type Provenance struct {
	Dataset      string    `json:"dataset"`                 // "mnist", "fashion-mnist", "folder:<name>"
	AnomalyClass string    `json:"anomaly_class,omitempty"` // the held-out class, e.g. "0"
	Protocol     string    `json:"protocol,omitempty"`      // "honest" or "paper"
	Epochs       int       `json:"epochs,omitempty"`
	Seed         int64     `json:"seed"`
	TestAUC      float64   `json:"test_auc,omitempty"`
	ValAUC       float64   `json:"val_auc,omitempty"`
	Created      time.Time `json:"created"`
	Trainer      string    `json:"trainer,omitempty"` // program and version that wrote the file
	Notes        string    `json:"notes,omitempty"`
}

// DescribeDataset names a provenance's data set in words for people: "MNIST digits",
// "Fashion-MNIST clothes", "images of screws" (a folder), or "" when it is unknown.
func DescribeDataset(dataset string) string {
	switch dataset {
	case "mnist":
		return "MNIST digits"
	case "fashion-mnist":
		return "Fashion-MNIST clothes"
	}
	if d, ok := strings.CutPrefix(dataset, "folder:"); ok && d != "" {
		return "images of " + d
	}
	return ""
}

// WeightsFile is the content of a weights file.
type WeightsFile struct {
	Config      Config
	Calibration Calibration
	Provenance  Provenance
	// Tensors holds exactly the generator's parameters, by name (see GeneratorArch.Params).
	Tensors map[string][]float32
}

// ErrWeights is wrapped by every error about the content of a weights file.
var ErrWeights = errors.New("invalid weights file")

// ReadWeights parses and checks a weights file held in memory: the safetensors
// structure, the format and version, the config, the calibration, and that the tensors
// are exactly the generator's for that config, with the right shapes.
func ReadWeights(data []byte) (*WeightsFile, error) {
	st, err := safetensors.Read(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWeights, err)
	}
	return weightsFrom(st)
}

// ReadWeightsFile reads and checks the weights file at path.
func ReadWeightsFile(path string) (*WeightsFile, error) {
	st, err := safetensors.ReadFile(path)
	if err == nil {
		var f *WeightsFile
		if f, err = weightsFrom(st); err == nil {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", path, err)
}

func weightsFrom(st *safetensors.File) (*WeightsFile, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrWeights, fmt.Sprintf(format, args...))
	}
	md := st.Metadata
	if md["format"] != WeightsFormat {
		return nil, bad("metadata format is %q, want %q: this is not a ganomaly-go weights file (import an official PyTorch checkpoint, netG.pth, with `ganomaly import`)", md["format"], WeightsFormat)
	}
	version, err := strconv.Atoi(md["format_version"])
	if err != nil || version != WeightsFormatVersion {
		return nil, bad("format version %q is not supported by this build (it reads version %d); re-export the model with this version of ganomaly", md["format_version"], WeightsFormatVersion)
	}
	f := &WeightsFile{Tensors: make(map[string][]float32, len(st.Tensors))}
	for _, field := range []struct {
		key string
		dst any
	}{{"config", &f.Config}, {"calibration", &f.Calibration}, {"provenance", &f.Provenance}} {
		raw, ok := md[field.key]
		if !ok {
			return nil, bad("metadata %q is missing", field.key)
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(field.dst); err != nil {
			return nil, bad("metadata %q: %v", field.key, err)
		}
	}
	if err := f.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWeights, err)
	}
	if err := f.Calibration.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWeights, err)
	}
	want := f.Config.Generator().Params()
	wantByName := make(map[string]Param, len(want))
	for _, p := range want {
		wantByName[p.Name] = p
	}
	for _, t := range st.Tensors {
		p, ok := wantByName[t.Name]
		if !ok {
			return nil, bad("unexpected tensor %q: not a parameter of the generator for config %+v", t.Name, f.Config)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return nil, bad("tensor %q has shape %v, want %v for config %+v", t.Name, t.Shape, p.Shape, f.Config)
		}
		// A NaN or an infinity in the weights makes every score NaN, and NaN
		// compares false with any threshold: every image would be called normal.
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, bad("tensor %q holds %v at index %d: weights must be finite (the model diverged in training, or the file is damaged)", t.Name, v, i)
			}
		}
		f.Tensors[t.Name] = t.Data
	}
	var missing []string
	for _, p := range want {
		if _, ok := f.Tensors[p.Name]; !ok {
			missing = append(missing, p.Name)
		}
	}
	if len(missing) > 0 {
		return nil, bad("%d tensors missing, first %q", len(missing), missing[0])
	}
	return f, nil
}

func (f *WeightsFile) safetensors() (*safetensors.File, error) {
	if err := f.Config.Validate(); err != nil {
		return nil, err
	}
	if err := f.Calibration.Validate(); err != nil {
		return nil, err
	}
	md := map[string]string{
		"format":         WeightsFormat,
		"format_version": strconv.Itoa(WeightsFormatVersion),
	}
	for key, v := range map[string]any{"config": f.Config, "calibration": f.Calibration, "provenance": f.Provenance} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		md[key] = string(b)
	}
	st := &safetensors.File{Metadata: md}
	params := f.Config.Generator().Params()
	if extra := len(f.Tensors) - len(params); extra != 0 {
		return nil, fmt.Errorf("%w: %d tensors given, the generator has %d", ErrWeights, len(f.Tensors), len(params))
	}
	for _, p := range params {
		v, ok := f.Tensors[p.Name]
		if !ok {
			return nil, fmt.Errorf("%w: tensor %q missing", ErrWeights, p.Name)
		}
		if len(v) != shapeLen(p.Shape) {
			return nil, fmt.Errorf("%w: tensor %q has %d values, want %d for shape %v", ErrWeights, p.Name, len(v), shapeLen(p.Shape), p.Shape)
		}
		st.Tensors = append(st.Tensors, safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: v})
	}
	slices.SortFunc(st.Tensors, func(a, b safetensors.Tensor) int { return strings.Compare(a.Name, b.Name) })
	return st, nil
}

// Encode writes f as a weights file to w.
func (f *WeightsFile) Encode(w io.Writer) error {
	st, err := f.safetensors()
	if err != nil {
		return err
	}
	return safetensors.Write(w, st)
}

// Bytes returns f encoded as a weights file.
func (f *WeightsFile) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	if err := f.Encode(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteFile writes f to path atomically (temporary file, then rename): a reader never
// sees half a file and a failed write leaves any existing file as it was.
func (f *WeightsFile) WriteFile(path string) error {
	st, err := f.safetensors()
	if err != nil {
		return err
	}
	return safetensors.WriteFile(path, st)
}

// TensorNames lists the tensor names of f, sorted.
func (f *WeightsFile) TensorNames() []string { return slices.Sorted(maps.Keys(f.Tensors)) }
