package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
	"github.com/ganomaly-go/ganomaly-go/server/data"
)

// A checkpoint is a safetensors file holding everything a run needs to continue:
//
//	netg.<name>               G's parameters and running statistics (official names)
//	netd.<name>               D's
//	adam_g.exp_avg.<name>     G's Adam first moments; adam_g.exp_avg_sq.<name> second
//	adam_d.exp_avg.<name>     D's, likewise
//	best_netg.<name>          G as it was at the best epoch so far
//
// and in its metadata (strings, as safetensors requires):
//
//	format          "ganomaly-go/checkpoint"
//	format_version  "1"
//	options         JSON of Options
//	state           JSON of runState: epochs finished, steps, Adam step counts, D
//	                re-initialisations, the best epoch and its metric, the history
//
// The random state needs no saving: each epoch's batch order is drawn from a generator
// seeded by (Options.Seed, epoch), and each D re-initialisation from (Options.Seed,
// its rank), so a resumed run draws what the uninterrupted run would have.
const (
	CheckpointFormat        = "ganomaly-go/checkpoint"
	CheckpointFormatVersion = 1
	// CheckpointName is the file's name inside Options.CheckpointDir.
	CheckpointName = "checkpoint.safetensors"
)

// runState is the progress of a run, saved in every checkpoint.
type runState struct {
	Epoch     int `json:"epoch"`     // epochs finished
	Iteration int `json:"iteration"` // steps taken
	AdamGStep int `json:"adam_g_step"`
	AdamDStep int `json:"adam_d_step"`
	DReinits  int `json:"d_reinits"`
	// BestEpoch (from 1) and BestMetric: the lowest validation reconstruction error
	// (honest) or the highest test AUC (paper) so far.
	BestEpoch  int     `json:"best_epoch"`
	BestMetric float64 `json:"best_metric"`
	// BestReport and BestScores are the kept epoch's test figures (paper protocol).
	BestReport *metrics.Report `json:"best_report,omitempty"`
	BestScores []float64       `json:"best_scores,omitempty"`
	History    []Event         `json:"history"`
}

type checkpoint struct {
	opts   Options
	state  runState
	g, d   map[string][]float32
	bestG  map[string][]float32
	adamG  [2]map[string][]float32 // exp_avg, exp_avg_sq
	adamD  [2]map[string][]float32
	source string // path it was read from
}

var adamKeys = [2]string{"exp_avg", "exp_avg_sq"}

func (c *checkpoint) file() (*safetensors.File, error) {
	opts, err := json.Marshal(c.opts)
	if err != nil {
		return nil, err
	}
	state, err := json.Marshal(c.state)
	if err != nil {
		return nil, err
	}
	f := &safetensors.File{Metadata: map[string]string{
		"format":         CheckpointFormat,
		"format_version": strconv.Itoa(CheckpointFormatVersion),
		"options":        string(opts),
		"state":          string(state),
	}}
	add := func(prefix string, values map[string][]float32, params []model.Param) {
		for _, p := range params {
			f.Tensors = append(f.Tensors, safetensors.Tensor{Name: prefix + p.Name, Shape: p.Shape, Data: values[p.Name]})
		}
	}
	gp, dp := c.opts.Config.Generator().Params(), c.opts.Config.Discriminator().Params()
	add("netg.", c.g, gp)
	add("netd.", c.d, dp)
	add("best_netg.", c.bestG, gp)
	for i, k := range adamKeys {
		add("adam_g."+k+".", c.adamG[i], trainableParams(gp))
		add("adam_d."+k+".", c.adamD[i], trainableParams(dp))
	}
	return f, nil
}

func trainableParams(ps []model.Param) []model.Param {
	var out []model.Param
	for _, p := range ps {
		if !p.Buffer {
			out = append(out, p)
		}
	}
	return out
}

// writeCheckpoint writes c into dir atomically.
func writeCheckpoint(dir string, c *checkpoint) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	f, err := c.file()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, CheckpointName), f); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// ErrNoCheckpoint is returned when a resume finds no checkpoint.
var ErrNoCheckpoint = errors.New("no checkpoint")

// CheckpointPath returns the checkpoint file for a path that is either the file or
// the directory holding it.
func CheckpointPath(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, CheckpointName)
	}
	return path
}

// readCheckpoint reads and checks a checkpoint file (or the one in a directory).
func readCheckpoint(path string) (*checkpoint, error) {
	path = CheckpointPath(path)
	st, err := safetensors.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoCheckpoint, path)
	}
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: not a usable checkpoint: %s", path, fmt.Sprintf(format, args...))
	}
	md := st.Metadata
	if md["format"] != CheckpointFormat {
		if md["format"] == model.WeightsFormat {
			return nil, bad("it is a weights file (generator only); a checkpoint is the checkpoint.safetensors a training run writes into its checkpoint directory")
		}
		return nil, bad("metadata format is %q, want %q", md["format"], CheckpointFormat)
	}
	if v, err := strconv.Atoi(md["format_version"]); err != nil || v != CheckpointFormatVersion {
		return nil, bad("format version %q; this build reads version %d (train again, or use the build that wrote it)", md["format_version"], CheckpointFormatVersion)
	}
	c := &checkpoint{source: path}
	if err := json.Unmarshal([]byte(md["options"]), &c.opts); err != nil {
		return nil, bad("options: %v", err)
	}
	if err := json.Unmarshal([]byte(md["state"]), &c.state); err != nil {
		return nil, bad("state: %v", err)
	}
	if err := c.opts.Config.Validate(); err != nil {
		return nil, bad("%v", err)
	}
	byName := make(map[string]safetensors.Tensor, len(st.Tensors))
	for _, t := range st.Tensors {
		byName[t.Name] = t
	}
	take := func(prefix string, params []model.Param) (map[string][]float32, error) {
		out := make(map[string][]float32, len(params))
		for _, p := range params {
			t, ok := byName[prefix+p.Name]
			if !ok {
				return nil, bad("tensor %q missing", prefix+p.Name)
			}
			if len(t.Data) != shapeLen(p.Shape) {
				return nil, bad("tensor %q has shape %v, want %v", t.Name, t.Shape, p.Shape)
			}
			out[p.Name] = t.Data
		}
		return out, nil
	}
	gp, dp := c.opts.Config.Generator().Params(), c.opts.Config.Discriminator().Params()
	if c.g, err = take("netg.", gp); err != nil {
		return nil, err
	}
	if c.d, err = take("netd.", dp); err != nil {
		return nil, err
	}
	if c.bestG, err = take("best_netg.", gp); err != nil {
		return nil, err
	}
	for i, k := range adamKeys {
		if c.adamG[i], err = take("adam_g."+k+".", trainableParams(gp)); err != nil {
			return nil, err
		}
		if c.adamD[i], err = take("adam_d."+k+".", trainableParams(dp)); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// resumable is the part of Options a resumed run must share with the checkpoint; the
// rest (epochs, device, logging, the calibration quantile) may change.
type resumable struct {
	Data             data.Options
	Config           model.Config
	BatchSize        int
	LR, Beta1, Beta2 float64
	WAdv, WCon, WEnc float64
	Protocol         string
	Score            model.ScoreKind
	Seed             int64
}

func resumableOf(o Options) resumable {
	return resumable{o.Data, o.Config, o.BatchSize, o.LR, o.Beta1, o.Beta2, o.WAdv, o.WCon, o.WEnc, o.Protocol, o.Score, o.Seed}
}

// compatible explains how opts differ from the checkpoint's, if they do.
func (c *checkpoint) compatible(opts Options) error {
	a, b := resumableOf(c.opts), resumableOf(opts)
	if a == b {
		return nil
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var diffs []string
	var ma, mb map[string]any
	_ = json.Unmarshal(ja, &ma)
	_ = json.Unmarshal(jb, &mb)
	for k, va := range ma {
		if fmt.Sprint(va) != fmt.Sprint(mb[k]) {
			diffs = append(diffs, fmt.Sprintf("%s: checkpoint %v, now %v", k, va, mb[k]))
		}
	}
	slices.Sort(diffs)
	return fmt.Errorf("%s was written by a run with other settings (%s): resume with the same settings, or start afresh in another checkpoint directory", c.source, strings.Join(diffs, "; "))
}
