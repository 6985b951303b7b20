package learn

import (
	"fmt"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// A checkpoint is a safetensors file holding everything a run needs to continue,
// whoever trains it (the libtorch trainer, the pure-Go one natively or in the
// browser):
//
//	netg.<name>               G's parameters and running statistics (official names)
//	netd.<name>               D's
//	adam_g.exp_avg.<name>     G's Adam first moments; adam_g.exp_avg_sq.<name> second
//	adam_d.exp_avg.<name>     D's, likewise
//	best_netg.<name>          G as it was at the best epoch so far
//
// and in its metadata (strings, as safetensors requires) "format" and
// "format_version", plus what the writer adds: the run's options and progress
// (including the Adam step counts and D re-initialisations of [State]) as JSON.
const (
	CheckpointFormat        = "ganomaly-go/checkpoint"
	CheckpointFormatVersion = 1
)

var adamKeys = [2]string{"exp_avg", "exp_avg_sq"}

// EncodeCheckpoint adds the tensors of a checkpoint of a cfg run at state s, with
// bestG the kept generator, to f, and sets its format metadata.
func EncodeCheckpoint(f *safetensors.File, cfg model.Config, s State, bestG map[string][]float32) {
	if f.Metadata == nil {
		f.Metadata = map[string]string{}
	}
	f.Metadata["format"] = CheckpointFormat
	f.Metadata["format_version"] = fmt.Sprint(CheckpointFormatVersion)
	add := func(prefix string, values map[string][]float32, params []model.Param) {
		for _, p := range params {
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: prefix + p.Name, Shape: p.Shape, Data: values[p.Name]})
		}
	}
	gp, dp := cfg.Generator().Params(), cfg.Discriminator().Params()
	add("netg.", s.G, gp)
	add("netd.", s.D, dp)
	add("best_netg.", bestG, gp)
	for i, k := range adamKeys {
		add("adam_g."+k+".", s.AdamG[i], trainable(gp))
		add("adam_d."+k+".", s.AdamD[i], trainable(dp))
	}
}

// DecodeCheckpoint reads the tensors of a checkpoint of a cfg run from f: the state
// (its step counts and D re-initialisations left at zero: the writer keeps them in
// its metadata) and the kept generator. Every tensor must be there with its shape.
func DecodeCheckpoint(f *safetensors.File, cfg model.Config) (s State, bestG map[string][]float32, err error) {
	byName := make(map[string]safetensors.Tensor, len(f.Tensors))
	for _, t := range f.Tensors {
		byName[t.Name] = t
	}
	take := func(prefix string, params []model.Param) (map[string][]float32, error) {
		out := make(map[string][]float32, len(params))
		for _, p := range params {
			t, ok := byName[prefix+p.Name]
			if !ok {
				return nil, fmt.Errorf("tensor %q missing", prefix+p.Name)
			}
			if len(t.Data) != shapeLen(p.Shape) {
				return nil, fmt.Errorf("tensor %q has shape %v, want %v", t.Name, t.Shape, p.Shape)
			}
			out[p.Name] = t.Data
		}
		return out, nil
	}
	gp, dp := cfg.Generator().Params(), cfg.Discriminator().Params()
	if s.G, err = take("netg.", gp); err != nil {
		return s, nil, err
	}
	if s.D, err = take("netd.", dp); err != nil {
		return s, nil, err
	}
	if bestG, err = take("best_netg.", gp); err != nil {
		return s, nil, err
	}
	for i, k := range adamKeys {
		if s.AdamG[i], err = take("adam_g."+k+".", trainable(gp)); err != nil {
			return s, nil, err
		}
		if s.AdamD[i], err = take("adam_d."+k+".", trainable(dp)); err != nil {
			return s, nil, err
		}
	}
	return s, bestG, nil
}

func trainable(ps []model.Param) []model.Param {
	var out []model.Param
	for _, p := range ps {
		if !p.Buffer {
			out = append(out, p)
		}
	}
	return out
}
