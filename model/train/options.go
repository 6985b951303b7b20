package train

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
)

// Protocols for Options.Protocol.
const (
	// Honest selects the model on validation normals, calibrates on them, scores with
	// eval-mode batch norm and touches the test set once.
	Honest = "honest"
	// Paper reproduces the official code: train-mode batch norm at test time, model
	// selection by test AUC, min–max scaling over the test set, threshold 0.20.
	Paper = "paper"
)

// PaperLabel is attached to every output of a paper-protocol run.
const PaperLabel = "paper protocol: test-set model selection"

// PaperThreshold is the official fixed threshold on min–max scaled scores.
const PaperThreshold = 0.20

// Limits on Options that stop absurd requests before any work starts.
const (
	MaxEpochs    = 10000
	MaxBatchSize = 4096
	MaxSamples   = 16
)

// Options are everything a training run needs. Start from [DefaultOptions].
type Options struct {
	// Data chooses the data set and its split. Data.Size and Data.Channels are set from
	// Config (a non-zero value that disagrees is refused). In the paper protocol a zero
	// Data.ValidationFraction means no validation split, as in the official code.
	Data data.Options `json:"data"`
	// Config is the network's shape (image size, channels, nz, ngf, extra layers).
	Config model.Config `json:"config"`
	// Epochs is the number of passes over the train normals (official niter: 15).
	Epochs int `json:"epochs"`
	// BatchSize is the number of images per step (official: 64). The last partial
	// batch of an epoch is dropped, as the official train loader does.
	BatchSize int `json:"batch_size"`
	// LR, Beta1 and Beta2 configure Adam for both networks (official 2e-4, 0.5, 0.999).
	LR    float64 `json:"lr"`
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	// WAdv, WCon and WEnc weight the adversarial (feature matching), contextual (L1) and
	// encoder (latent L2) terms of G's loss (official 1, 50, 1).
	WAdv float64 `json:"w_adv"`
	WCon float64 `json:"w_con"`
	WEnc float64 `json:"w_enc"`
	// Protocol is Honest (default) or Paper.
	Protocol string `json:"protocol"`
	// Score is the anomaly score: model.ScoreMSE (official) or model.ScoreL1 (paper).
	Score model.ScoreKind `json:"score"`
	// CalibrationQuantile is the quantile of validation normals' scores taken as the
	// threshold in the honest protocol (0.95 flags about 5 % of normals).
	CalibrationQuantile float64 `json:"calibration_quantile"`
	// Engine is what trains: EngineTorch (libtorch), EngineGo (pure Go, as in the
	// browser), or EngineAuto (the default: libtorch when the build has it, else Go).
	// They take the same steps, and a checkpoint of one resumes in another.
	Engine string `json:"engine,omitempty"`
	// Device is "auto", "cpu", "cuda" or "cuda:N" (the Go engine: auto or cpu).
	Device string `json:"device"`
	// Seed drives weight initialisation, D re-initialisation and the order of batches.
	// The data split has its own seed, Data.Seed.
	Seed int64 `json:"seed"`
	// CheckpointDir, when set, receives checkpoint.safetensors after every epoch
	// (written atomically). Resume continues from it after its last finished epoch.
	CheckpointDir string `json:"checkpoint_dir,omitempty"`
	// Checkpoints, when set instead of CheckpointDir, keeps the checkpoint (the
	// browser's storage). It is not saved with the options.
	Checkpoints CheckpointStore `json:"-"`
	Resume      bool            `json:"resume,omitempty"`
	// MaxIterations caps the number of training steps over the whole run (0: no cap),
	// for tiny jobs and tests; the epoch in progress when the cap is reached is
	// evaluated as a finished one.
	MaxIterations int `json:"max_iterations,omitempty"`
	// LogEvery is the number of steps between "step" events (0: none).
	LogEvery int `json:"log_every"`
	// Samples is the number of images (the first of the validation split, else of the
	// test split's normals) whose reconstructions come with every "epoch" event, for a
	// dashboard to show them getting better (0: none; at most MaxSamples).
	Samples int `json:"samples,omitempty"`
}

// DefaultOptions returns the official settings on MNIST with digit 0 as the anomaly,
// in the honest protocol.
func DefaultOptions() Options {
	return Options{
		Data:                data.Options{Dataset: data.MNIST, AnomalyClass: 0}, // Size and Channels follow Config
		Config:              model.DefaultConfig(),
		Epochs:              15,
		BatchSize:           64,
		LR:                  2e-4,
		Beta1:               0.5,
		Beta2:               0.999,
		WAdv:                1,
		WCon:                50,
		WEnc:                1,
		Protocol:            Honest,
		Score:               model.ScoreMSE,
		CalibrationQuantile: 0.95,
		Engine:              EngineAuto,
		Device:              "auto",
		Seed:                0,
		LogEvery:            10,
	}
}

// ErrOptions is wrapped by every error of Options.Validate.
var ErrOptions = errors.New("train: invalid options")

// Validate reports every option that is out of range, in words a user can act on,
// before anything is loaded or allocated.
func (o Options) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) {
		errs = append(errs, &model.Invalid{Setting: setting, Reason: fmt.Sprintf(format, args...)})
	}
	invalid := func(setting string, err error) {
		errs = append(errs, &model.Invalid{Setting: setting, Reason: err.Error()})
	}
	if err := o.Config.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Data.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Data.Size != 0 && o.Data.Size != o.Config.ImageSize {
		bad("", "data image size %d differs from the model's image size %d: leave the data size at 0 or make them equal", o.Data.Size, o.Config.ImageSize)
	}
	if o.Data.Channels != 0 && o.Data.Channels != o.Config.Channels {
		bad("", "data channels %d differ from the model's channels %d: leave the data channels at 0 or make them equal", o.Data.Channels, o.Config.Channels)
	}
	if o.Epochs < 1 || o.Epochs > MaxEpochs {
		bad("epochs", "epochs %d: use 1 to %d (the official code trains 15)", o.Epochs, MaxEpochs)
	}
	if o.BatchSize < 2 || o.BatchSize > MaxBatchSize {
		bad("batch_size", "batch size %d: use 2 to %d (the official code uses 64; train-mode batch norm needs more than one image)", o.BatchSize, MaxBatchSize)
	}
	if !(o.LR > 0 && o.LR <= 1) {
		bad("lr", "learning rate %v: use a value in (0, 1] (the official code uses 2e-4)", o.LR)
	}
	for _, b := range []struct {
		name string
		v    float64
	}{{"beta1", o.Beta1}, {"beta2", o.Beta2}} {
		if !(b.v >= 0 && b.v < 1) {
			bad(b.name, "Adam %s %v: use a value in [0, 1) (the official code uses 0.5 and 0.999)", b.name, b.v)
		}
	}
	for _, w := range []struct {
		name string
		v    float64
	}{{"w_adv", o.WAdv}, {"w_con", o.WCon}, {"w_enc", o.WEnc}} {
		if !(w.v >= 0 && w.v <= 1e6) {
			bad(w.name, "loss weight %s %v: use a finite value between 0 and 1e6 (the official weights are 1, 50, 1)", w.name, w.v)
		}
	}
	if o.WAdv == 0 && o.WCon == 0 && o.WEnc == 0 {
		bad("", "all loss weights are 0: the generator would learn nothing")
	}
	switch o.Protocol {
	case Honest:
		if o.Data.ValidationFraction < 0 {
			bad("validation_fraction", "the honest protocol selects the model and calibrates the score on a validation split: give a validation fraction in (0, 1) or 0 for the default 0.1")
		}
	case Paper:
	case "":
		bad("protocol", "no protocol: use %q (validation-based, the default) or %q (the official code's, with test-set model selection)", Honest, Paper)
	default:
		bad("protocol", "unknown protocol %q: use %q or %q", o.Protocol, Honest, Paper)
	}
	if err := o.Score.Validate(); err != nil {
		invalid("score", err)
	}
	if !(o.CalibrationQuantile > 0 && o.CalibrationQuantile < 1) {
		bad("calibration_quantile", "calibration quantile %v: use a value in (0, 1), e.g. 0.95 to flag about 5 %% of normal images", o.CalibrationQuantile)
	}
	if err := ValidateDevice(o.Device); err != nil {
		invalid("device", err)
	} else if err := validateEngine(o.Engine, o.Device); err != nil {
		invalid("engine", err)
	}
	if o.CheckpointDir != "" && o.Checkpoints != nil {
		bad("checkpoint_dir", "a checkpoint directory and a checkpoint store: give one")
	}
	if o.Resume && o.CheckpointDir == "" && o.Checkpoints == nil {
		bad("resume", "resume needs a checkpoint directory")
	}
	if o.MaxIterations < 0 {
		bad("max_iterations", "max iterations %d is negative: use 0 for no cap", o.MaxIterations)
	}
	if o.Samples < 0 || o.Samples > MaxSamples {
		bad("samples", "samples %d: use 0 to %d reconstructions per epoch", o.Samples, MaxSamples)
	}
	if o.LogEvery < 0 {
		bad("log_every", "log every %d is negative: use 0 for no step events", o.LogEvery)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrOptions, errors.Join(errs...))
	}
	return nil
}

// ValidateDevice checks the syntax of a device flag: auto, cpu, cuda or cuda:N. Whether
// the device exists is checked when a run starts.
func ValidateDevice(dev string) error {
	d := strings.ToLower(strings.TrimSpace(dev))
	switch {
	case d == "auto", d == "cpu", d == "cuda":
		return nil
	case strings.HasPrefix(d, "cuda:"):
		if _, err := strconv.ParseUint(d[len("cuda:"):], 10, 16); err == nil {
			return nil
		}
	}
	return fmt.Errorf("device %q: use auto, cpu, cuda or cuda:N", dev)
}

// withDefaults fills the data options from the model config and the protocol.
func (o Options) withDefaults() Options {
	o.Data.Size = o.Config.ImageSize
	o.Data.Channels = o.Config.Channels
	if o.Protocol == Paper && o.Data.ValidationFraction == 0 {
		o.Data.ValidationFraction = data.NoValidation
	}
	return o
}

// finite reports whether v is a usable number (for JSON, which has no NaN or Inf).
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
