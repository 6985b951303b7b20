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
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/learn"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// A checkpoint is the safetensors file of package model/learn (G, D, both Adam states
// and the kept G, under official names; see [learn.EncodeCheckpoint]), which either
// engine resumes, with in its metadata:
//
//	options         JSON of Options
//	state           JSON of runState: epochs finished, steps, Adam step counts, D
//	                re-initialisations, the best epoch and its metric, the history
//
// The random state needs no saving: each epoch's batch order is drawn from a generator
// seeded by (Options.Seed, epoch), and each D re-initialisation from (Options.Seed,
// its rank), so a resumed run draws what the uninterrupted run would have.
const (
	CheckpointFormat        = learn.CheckpointFormat
	CheckpointFormatVersion = learn.CheckpointFormatVersion
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
	engine learn.State // G, D and Adam: what either engine needs to continue
	bestG  map[string][]float32
	source string // path it was read from
}

func (c *checkpoint) file() (*safetensors.File, error) {
	opts, err := json.Marshal(c.opts)
	if err != nil {
		return nil, err
	}
	state, err := json.Marshal(c.state)
	if err != nil {
		return nil, err
	}
	f := &safetensors.File{Metadata: map[string]string{"options": string(opts), "state": string(state)}}
	learn.EncodeCheckpoint(f, c.opts.Config, c.engine, c.bestG)
	return f, nil
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
	return decodeCheckpoint(st, path)
}

// CheckpointStore keeps a run's checkpoint elsewhere than in a folder: in the
// browser's storage.
type CheckpointStore interface {
	// Save replaces the stored checkpoint with f.
	Save(f *safetensors.File) error
	// Load returns the stored checkpoint, or an error wrapping ErrNoCheckpoint.
	Load() (*safetensors.File, error)
}

// decodeCheckpoint checks a checkpoint file read from source (for messages).
func decodeCheckpoint(st *safetensors.File, path string) (*checkpoint, error) {
	var err error
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
	upgradeHistory([]byte(md["state"]), c.state.History)
	if err := c.opts.Config.Validate(); err != nil {
		return nil, bad("%v", err)
	}
	if c.engine, c.bestG, err = learn.DecodeCheckpoint(st, c.opts.Config); err != nil {
		return nil, bad("%v", err)
	}
	c.engine.AdamGStep, c.engine.AdamDStep, c.engine.DReinits = c.state.AdamGStep, c.state.AdamDStep, c.state.DReinits
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
	// Compared as JSON: what a checkpoint keeps (a pack's bytes are not kept).
	ja, _ := json.Marshal(resumableOf(c.opts))
	jb, _ := json.Marshal(resumableOf(opts))
	if string(ja) == string(jb) {
		return nil
	}
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

// upgradeHistory reads the epoch figures of a checkpoint written before the event
// schema was shared (package progress), when they were fields of the event itself, so
// that such a run resumes with its history whole.
func upgradeHistory(state []byte, history []Event) {
	var old struct {
		History []struct {
			ValLoss  float64  `json:"val_loss"`
			ValScore float64  `json:"val_score"`
			TestAUC  float64  `json:"test_auc"`
			Best     bool     `json:"best"`
			Samples  []Sample `json:"samples"`
		} `json:"history"`
	}
	if json.Unmarshal(state, &old) != nil || len(old.History) != len(history) {
		return
	}
	for i, h := range old.History {
		if e := &history[i]; e.Kind == EventEpoch && e.Figures == nil {
			e.Figures = &EpochFigures{Epoch: e.Epoch, ValLoss: h.ValLoss, ValScore: h.ValScore, TestAUC: h.TestAUC, Best: h.Best, Samples: h.Samples}
			e.TestAUC = 0
		}
	}
}
