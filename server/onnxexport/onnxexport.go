package onnxexport

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/atomicfile"
)

// Opset is the ONNX operator set the graph uses: every op here has had its current
// form since 13, and ReduceMean still takes its axes as an attribute there.
const Opset = 13

// irVersion is the ONNX IR version that goes with opset 13.
const irVersion = 7

// Names of the graph's inputs and outputs.
const (
	InputX      = "x"
	OutputXhat  = "xhat"
	OutputZ     = "z"
	OutputZhat  = "zhat"
	OutputScore = "score"
)

// Metadata keys written into metadata_props. Values are JSON, as in the weights file,
// except the plain numbers, which are there for people reading the file in a viewer.
const (
	MetaFormat      = "ganomaly.format"      // "ganomaly-go/onnx"
	MetaConfig      = "ganomaly.config"      // JSON of model.Config
	MetaCalibration = "ganomaly.calibration" // JSON of model.Calibration
	MetaProvenance  = "ganomaly.provenance"  // JSON of model.Provenance
	MetaThreshold   = "ganomaly.threshold"   // raw score at and above which an image is anomalous; absent when uncalibrated
	MetaScore       = "ganomaly.score"       // how the output "score" is computed
	MetaUsage       = "ganomaly.usage"       // one sentence on how to get a verdict
)

// MetadataKeys lists every metadata key the exporter may write.
var MetadataKeys = []string{MetaFormat, MetaConfig, MetaCalibration, MetaProvenance, MetaThreshold, MetaScore, MetaUsage}

// Options say who wrote the file.
type Options struct {
	// ProducerVersion is the version of the program that exports (e.g. ganomaly's).
	ProducerVersion string
}

// Export builds the ONNX model of f's generator.
func Export(f *model.WeightsFile, opts Options) (*onnx.ModelProto, error) {
	if err := f.Config.Validate(); err != nil {
		return nil, err
	}
	if err := f.Calibration.Validate(); err != nil {
		return nil, err
	}
	b := &builder{tensors: f.Tensors}
	cfg := f.Config
	arch := cfg.Generator()
	z, err := b.chain(arch.Encoder1, InputX, OutputZ)
	if err != nil {
		return nil, err
	}
	xhat, err := b.chain(arch.Decoder, z, OutputXhat)
	if err != nil {
		return nil, err
	}
	zhat, err := b.chain(arch.Encoder2, xhat, OutputZhat)
	if err != nil {
		return nil, err
	}
	b.score(z, zhat, f.Calibration.Score)

	batch := dim{param: "N"}
	image := []dim{batch, {value: cfg.Channels}, {value: cfg.ImageSize}, {value: cfg.ImageSize}}
	latent := []dim{batch, {value: cfg.Latent}, {value: 1}, {value: 1}}
	graph := &onnx.GraphProto{
		Name:        "ganomaly_generator",
		DocString:   "GANomaly generator G = encoder1 → decoder → encoder2 (Akcay et al., ACCV 2018), eval mode. x in [−1, 1].",
		Node:        b.nodes,
		Initializer: b.inits,
		Input:       []*onnx.ValueInfoProto{valueInfo(InputX, image...)},
		Output: []*onnx.ValueInfoProto{
			valueInfo(OutputXhat, image...),
			valueInfo(OutputZ, latent...),
			valueInfo(OutputZhat, latent...),
			valueInfo(OutputScore, batch),
		},
	}
	meta, err := metadata(f)
	if err != nil {
		return nil, err
	}
	return &onnx.ModelProto{
		IrVersion:       irVersion,
		OpsetImport:     []*onnx.OperatorSetIdProto{{Domain: "", Version: Opset}},
		ProducerName:    "ganomaly-go",
		ProducerVersion: opts.ProducerVersion,
		Domain:          "io.github.ganomaly-go",
		ModelVersion:    1,
		DocString:       "GANomaly anomaly detector: score = latent distance between z = G_E(x) and ẑ = E(G(x)). See metadata_props for the calibration.",
		Graph:           graph,
		MetadataProps:   meta,
	}, nil
}

// Marshal returns the ONNX file's bytes.
func Marshal(f *model.WeightsFile, opts Options) ([]byte, error) {
	m, err := Export(f, opts)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(m)
}

// WriteFile writes f's generator as an ONNX file at path, atomically.
func WriteFile(path string, f *model.WeightsFile, opts Options) error {
	b, err := Marshal(f, opts)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b)
}

func metadata(f *model.WeightsFile) ([]*onnx.StringStringEntryProto, error) {
	entries := []*onnx.StringStringEntryProto{{Key: MetaFormat, Value: "ganomaly-go/onnx"}}
	for _, kv := range []struct {
		key string
		v   any
	}{{MetaConfig, f.Config}, {MetaCalibration, f.Calibration}, {MetaProvenance, f.Provenance}} {
		b, err := json.Marshal(kv.v)
		if err != nil {
			return nil, err
		}
		entries = append(entries, &onnx.StringStringEntryProto{Key: kv.key, Value: string(b)})
	}
	cal := f.Calibration
	how := "mean over the latent dimensions of (z − zhat)²"
	if cal.Score == model.ScoreL1 {
		how = "sum over the latent dimensions of |z − zhat|"
	}
	entries = append(entries, &onnx.StringStringEntryProto{Key: MetaScore, Value: how})
	if cal.Calibrated() {
		entries = append(entries,
			&onnx.StringStringEntryProto{Key: MetaThreshold, Value: strconv.FormatFloat(cal.Threshold, 'g', -1, 64)},
			&onnx.StringStringEntryProto{Key: MetaUsage, Value: fmt.Sprintf(
				"an image is anomalous when its output score is ≥ %s; score in [0, 1] = clamp((score − %s) / (%s − %s), 0, 1) (%s)",
				ff(cal.Threshold), ff(cal.Min), ff(cal.Max), ff(cal.Min), cal.Method)})
	} else {
		entries = append(entries, &onnx.StringStringEntryProto{Key: MetaUsage, Value: "this model is uncalibrated: it has no threshold; compare output scores among images, or calibrate it on normal images with `ganomaly import --calibrate-dir`"})
	}
	return entries, nil
}

func ff(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }

// builder accumulates nodes and initializers.
type builder struct {
	tensors map[string][]float32
	nodes   []*onnx.NodeProto
	inits   []*onnx.TensorProto
}

// chain adds the modules of seq, reading from in; the last node writes out.
func (b *builder) chain(seq model.Sequential, in, out string) (string, error) {
	cur := in
	for i, m := range seq {
		next := m.Path
		if i == len(seq)-1 {
			next = out
		}
		var node *onnx.NodeProto
		switch m.Op {
		case model.OpConv, model.OpConvTranspose:
			p := m.Params()[0]
			if err := b.initializer(p); err != nil {
				return "", err
			}
			op := "Conv"
			if m.Op == model.OpConvTranspose {
				op = "ConvTranspose"
			}
			k, s, pad := int64(m.Kernel), int64(m.Stride), int64(m.Pad)
			node = &onnx.NodeProto{OpType: op, Input: []string{cur, p.Name}, Attribute: []*onnx.AttributeProto{
				intsAttr("kernel_shape", k, k), intsAttr("strides", s, s), intsAttr("pads", pad, pad, pad, pad),
				intsAttr("dilations", 1, 1), intAttr("group", 1),
			}}
		case model.OpBatchNorm:
			inputs := []string{cur}
			for _, p := range m.Params() { // weight, bias, running_mean, running_var: ONNX's order
				if err := b.initializer(p); err != nil {
					return "", err
				}
				inputs = append(inputs, p.Name)
			}
			node = &onnx.NodeProto{OpType: "BatchNormalization", Input: inputs, Attribute: []*onnx.AttributeProto{
				floatAttr("epsilon", model.BatchNormEps), floatAttr("momentum", 0.9),
			}}
		case model.OpLeakyReLU:
			node = &onnx.NodeProto{OpType: "LeakyRelu", Input: []string{cur}, Attribute: []*onnx.AttributeProto{floatAttr("alpha", model.LeakySlope)}}
		case model.OpReLU:
			node = &onnx.NodeProto{OpType: "Relu", Input: []string{cur}}
		case model.OpTanh:
			node = &onnx.NodeProto{OpType: "Tanh", Input: []string{cur}}
		case model.OpSigmoid:
			node = &onnx.NodeProto{OpType: "Sigmoid", Input: []string{cur}}
		default:
			return "", fmt.Errorf("onnxexport: module %q: no ONNX form for op %v", m.Path, m.Op)
		}
		node.Name, node.Output = m.Path, []string{next}
		b.nodes = append(b.nodes, node)
		cur = next
	}
	return cur, nil
}

// score adds the raw anomaly score of each image: mean((z − ẑ)²) or Σ|z − ẑ| over the
// latent axes, as model.AnomalyScore computes it (there in float64, here in float32).
func (b *builder) score(z, zhat string, kind model.ScoreKind) {
	diff := &onnx.NodeProto{Name: "score/diff", OpType: "Sub", Input: []string{z, zhat}, Output: []string{"score/diff"}}
	var per, reduce *onnx.NodeProto
	if kind == model.ScoreL1 {
		per = &onnx.NodeProto{Name: "score/abs", OpType: "Abs", Input: []string{"score/diff"}, Output: []string{"score/per_dim"}}
		reduce = &onnx.NodeProto{Name: "score/sum", OpType: "ReduceSum", Input: []string{"score/per_dim", "score/axes"}, Output: []string{OutputScore},
			Attribute: []*onnx.AttributeProto{intAttr("keepdims", 0)}}
		// ReduceSum takes its axes as an input from opset 13 on.
		b.inits = append(b.inits, &onnx.TensorProto{Name: "score/axes", Dims: []int64{3}, DataType: int32(onnx.TensorProto_INT64), Int64Data: []int64{1, 2, 3}})
	} else {
		per = &onnx.NodeProto{Name: "score/square", OpType: "Mul", Input: []string{"score/diff", "score/diff"}, Output: []string{"score/per_dim"}}
		reduce = &onnx.NodeProto{Name: "score/mean", OpType: "ReduceMean", Input: []string{"score/per_dim"}, Output: []string{OutputScore},
			Attribute: []*onnx.AttributeProto{intsAttr("axes", 1, 2, 3), intAttr("keepdims", 0)}}
	}
	b.nodes = append(b.nodes, diff, per, reduce)
}

func (b *builder) initializer(p model.Param) error {
	v, ok := b.tensors[p.Name]
	if !ok {
		return fmt.Errorf("onnxexport: tensor %q missing", p.Name)
	}
	n := 1
	dims := make([]int64, len(p.Shape))
	for i, d := range p.Shape {
		n *= d
		dims[i] = int64(d)
	}
	if len(v) != n {
		return fmt.Errorf("onnxexport: tensor %q has %d values, want %d for shape %v", p.Name, len(v), n, p.Shape)
	}
	raw := make([]byte, 4*n) // raw_data is little-endian, whatever the host
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	b.inits = append(b.inits, &onnx.TensorProto{Name: p.Name, Dims: dims, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw})
	return nil
}

type dim struct {
	value int
	param string
}

func valueInfo(name string, dims ...dim) *onnx.ValueInfoProto {
	shape := &onnx.TensorShapeProto{}
	for _, d := range dims {
		pd := &onnx.TensorShapeProto_Dimension{}
		if d.param != "" {
			pd.Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: d.param}
		} else {
			pd.Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d.value)}
		}
		shape.Dim = append(shape.Dim, pd)
	}
	return &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{
		TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT), Shape: shape}}}}
}

func intsAttr(name string, v ...int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS, Ints: v}
}

func intAttr(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: v}
}

func floatAttr(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}
