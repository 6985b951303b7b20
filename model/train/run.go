package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/imageio"
	"github.com/ganomaly-go/ganomaly-go/model/learn"
	"github.com/ganomaly-go/ganomaly-go/model/metrics"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// TrainerVersion is recorded in the provenance of every weights file.
const TrainerVersion = "ganomaly-go train v1"

// Run trains a model as opts say with the engine they name and returns the exported
// weights and the test report. Options are validated before anything is loaded. Run
// stops between two steps when ctx is cancelled and returns ctx's error; with
// Options.CheckpointDir set, the checkpoint of the last finished epoch remains, and
// Options.Resume continues from it. events, which may be nil, receives progress (see
// [Event]).
func Run(ctx context.Context, opts Options, events func(Event)) (*Result, error) {
	res, err := run(ctx, opts, events)
	if err != nil {
		emit(events, Event{Kind: EventError, Message: err.Error(), Protocol: opts.Protocol, Label: labelOf(opts.Protocol)})
	}
	return res, err
}

func emit(events func(Event), e Event) {
	if events == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	events(e)
}

func labelOf(protocol string) string {
	if protocol == Paper {
		return PaperLabel
	}
	return ""
}

func run(ctx context.Context, opts Options, events func(Event)) (*Result, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	split, err := data.Load(opts.Data)
	if err != nil {
		return nil, err
	}
	if err := checkSplit(split, opts); err != nil {
		return nil, err
	}
	name, factory, err := resolveEngine(opts.Engine)
	if err != nil {
		return nil, err
	}
	opts.Engine = name
	eng, err := factory(opts)
	if err != nil {
		return nil, err
	}
	if c, ok := eng.(io.Closer); ok {
		defer c.Close() // an engine holding memory outside Go's heap frees it now
	}
	return (&runner{ctx: ctx, opts: opts, split: split, events: events, eng: eng}).run()
}

func checkSplit(s *data.Split, o Options) error {
	if s.Train.N < o.BatchSize {
		return fmt.Errorf("the train split has %d images, fewer than one batch of %d: lower the batch size or allow more training images", s.Train.N, o.BatchSize)
	}
	if o.Protocol == Honest && (s.Validation == nil || s.Validation.N < 2) {
		return fmt.Errorf("the honest protocol needs at least 2 validation images, the split has %d: raise the validation fraction or allow more training images", setLen(s.Validation))
	}
	switch normal, anomalous := s.Test.Count(); {
	case anomalous == 0 && o.Protocol == Paper:
		return fmt.Errorf("the paper protocol selects the model by its test AUC, so it needs known anomalies in the test split; the split has none: use the honest protocol, which trains and calibrates on normal images alone")
	case anomalous == 0:
		// Normal images alone: trained, selected and calibrated on them, not tested.
	case normal == 0:
		return fmt.Errorf("the test split has %d anomalous images and no normal ones: evaluation needs both", anomalous)
	}
	return nil
}

// tested reports whether the split can be tested: it has known anomalies.
func tested(s *data.Split) bool {
	_, anomalous := s.Test.Count()
	return anomalous > 0
}

// watchNote says how many anomalies were set aside to watch training by.
func watchNote(w *data.Set) string {
	if w == nil {
		return ""
	}
	return fmt.Sprintf("; %d known anomalies set aside from the test to watch training by (never to select or calibrate)", w.N)
}

// warningsNote is what loading the data warned of, for the start event's message.
func warningsNote(w []string) string {
	if len(w) == 0 {
		return ""
	}
	return ". " + strings.Join(w, ". ")
}

func setLen(s *data.Set) int {
	if s == nil {
		return 0
	}
	return s.N
}

// runner is one run on the worker's thread.
type runner struct {
	ctx    context.Context
	opts   Options
	split  *data.Split
	events func(Event)
	eng    Engine
	st     runState
	bestG  map[string][]float32
	batch  []float32 // the batch being stepped or scored
}

func (r *runner) emit(e Event) {
	e.Protocol, e.Label = r.opts.Protocol, labelOf(r.opts.Protocol)
	emit(r.events, e)
}

func (r *runner) run() (*Result, error) {
	o := r.opts
	if o.Resume {
		if err := r.restore(); err != nil {
			return nil, err
		}
	}
	train := r.split.Train
	perEpoch := train.N / o.BatchSize // the last partial batch is dropped, as officially
	total := o.Epochs * perEpoch
	if o.MaxIterations > 0 {
		total = min(total, o.MaxIterations)
	}
	testNormal, testAnomalous := r.split.Test.Count()
	r.emit(Event{Kind: EventStart, Epoch: r.st.Epoch, Epochs: o.Epochs, Iteration: r.st.Iteration, Iterations: total,
		Message: fmt.Sprintf("%s, anomaly %s: %d train, %d validation, %d test images (%d normal, %d anomalous); %d steps of %d per epoch on %s",
			r.split.Dataset, r.split.AnomalyClass, train.N, setLen(r.split.Validation), r.split.Test.N, testNormal, testAnomalous,
			perEpoch, o.BatchSize, r.eng.Describe()) + watchNote(r.split.Watch) + warningsNote(r.split.Warnings)})

	sessionStart, sessionSteps := time.Now(), 0
	windowStart, windowImages := sessionStart, 0
	for epoch := r.st.Epoch; epoch < o.Epochs && r.st.Iteration < total; epoch++ {
		perm := rand.New(rand.NewPCG(uint64(o.Seed)+uint64(epoch), learn.StreamShuffle)).Perm(train.N)
		for it := 0; it < perEpoch && r.st.Iteration < total; it++ {
			if err := r.ctx.Err(); err != nil {
				hint := ""
				if o.CheckpointDir != "" && r.st.Epoch > 0 { // a store's owner says where it is
					hint = fmt.Sprintf("; the checkpoint of epoch %d in %s remains: resume from it with the same options and Resume", r.st.Epoch, o.CheckpointDir)
				}
				return nil, fmt.Errorf("training stopped at step %d of %d%s: %w", r.st.Iteration, total, hint, err)
			}
			r.batch = train.Batch(r.batch, perm[it*o.BatchSize:(it+1)*o.BatchSize])
			losses, err := r.eng.Step(r.batch, o.BatchSize)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", r.st.Iteration+1, err)
			}
			if !finite(losses.G) || !finite(losses.D) {
				return nil, fmt.Errorf("training diverged at step %d (G loss %v, D loss %v): lower the learning rate", r.st.Iteration+1, losses.G, losses.D)
			}
			r.st.Iteration++
			sessionSteps++
			windowImages += o.BatchSize
			if o.LogEvery > 0 && r.st.Iteration%o.LogEvery == 0 {
				now := time.Now()
				perStep := now.Sub(sessionStart) / time.Duration(sessionSteps)
				r.emit(Event{Kind: EventStep, Time: now, Epoch: epoch + 1, Epochs: o.Epochs,
					Iteration: r.st.Iteration, Iterations: total, Losses: &losses,
					ImagesPerSecond: float64(windowImages) / now.Sub(windowStart).Seconds(),
					ETASeconds:      (perStep * time.Duration(total-r.st.Iteration)).Seconds()})
				windowStart, windowImages = now, 0
			}
		}
		if err := r.endEpoch(epoch+1, total); err != nil {
			return nil, err
		}
	}
	if r.st.BestEpoch == 0 || r.bestG == nil {
		return nil, errors.New("no epoch was finished, so there is no model to export")
	}
	return r.finish(total)
}

// samples reconstructs the first n images of the validation split (else the test
// split's, which begins with its normals) in eval mode and returns them as PNG pairs.
func (r *runner) samples(n int) ([]Sample, error) {
	set := r.split.Validation
	if set == nil || set.N == 0 {
		set = r.split.Test
	}
	n = min(n, set.N)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := set.Batch(nil, idx)
	_, xhat, _, err := r.eng.Forward(x, n, false)
	if err != nil {
		return nil, err
	}
	l, size, ch := set.ImageLen(), set.Size, set.Channels
	out := make([]Sample, n)
	for i := range out {
		if out[i].Input, err = imageio.EncodePNG(imageio.Image(x[i*l:(i+1)*l], size, ch)); err != nil {
			return nil, err
		}
		if out[i].Reconstruction, err = imageio.EncodePNG(imageio.Image(xhat[i*l:(i+1)*l], size, ch)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scored holds a network's per-image outputs over a set.
type scored struct {
	scores []float64 // raw anomaly scores A(x)
	recon  []float64 // mean |x̂ − x| per image
	z      []float32 // latent codes, n×nz, when kept
}

// score runs G over set in batches of the batch size, in order. train selects batch
// norm's mode: false (eval, running statistics) is how the exported model scores;
// true is the official test pass (batch statistics, and running statistics updated by
// the test batches). keepZ keeps every image's z, for the model card's map.
func (r *runner) score(set *data.Set, train, keepZ bool) (out scored, err error) {
	b := r.opts.BatchSize
	nz := r.opts.Config.Latent
	l := set.ImageLen()
	indices := make([]int, 0, b)
	for start := 0; start < set.N; start += b {
		if err := r.ctx.Err(); err != nil {
			return out, err
		}
		n := min(b, set.N-start)
		indices = indices[:0]
		for i := range n {
			indices = append(indices, start+i)
		}
		r.batch = set.Batch(r.batch, indices)
		z, xhat, zhat, err := r.eng.Forward(r.batch, n, train)
		if err != nil {
			return out, err
		}
		if keepZ {
			out.z = append(out.z, z[:n*nz]...)
		}
		for i := range n {
			out.scores = append(out.scores, model.AnomalyScore(z[i*nz:(i+1)*nz], zhat[i*nz:(i+1)*nz], r.opts.Score))
			out.recon = append(out.recon, meanAbsDiff(xhat[i*l:(i+1)*l], r.batch[i*l:(i+1)*l]))
		}
	}
	return out, nil
}

// Bins and points of the separation an epoch event carries: a live chart's worth.
const (
	watchBins      = 30
	watchROCPoints = 64
)

// watch scores the anomalies set aside to watch training by and says how they and the
// validation normals (their scores given) separate now, with the threshold the
// calibration would set on these normals. It informs whoever watches; it never
// selects or calibrates.
func (r *runner) watch(normalScores []float64) (*Separation, error) {
	a, err := r.score(r.split.Watch, false, false)
	if err != nil {
		return nil, err
	}
	scores := slices.Concat(normalScores, a.scores)
	labels := make([]bool, len(scores))
	for i := len(normalScores); i < len(labels); i++ {
		labels[i] = true
	}
	auc, err := metrics.AUC(scores, labels)
	if err != nil {
		return nil, err
	}
	cal, err := model.CalibrateFromNormals(normalScores, r.opts.Score, r.opts.CalibrationQuantile)
	if err != nil {
		return nil, err
	}
	h, roc, err := card.Separate(scores, labels, cal.Threshold, watchBins, watchROCPoints)
	if err != nil {
		return nil, err
	}
	return &Separation{AUC: auc, Histograms: h, ROC: roc}, nil
}

// restore loads the checkpoint in Options.CheckpointDir into the trainer.
func (r *runner) restore() error {
	var c *checkpoint
	var err error
	if s := r.opts.Checkpoints; s != nil {
		var f *safetensors.File
		if f, err = s.Load(); err == nil {
			c, err = decodeCheckpoint(f, "the stored checkpoint")
		}
	} else {
		c, err = readCheckpoint(r.opts.CheckpointDir)
	}
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if err := c.compatible(r.opts); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	if err := r.eng.Restore(c.engine); err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	r.st, r.bestG = c.state, c.bestG
	return nil
}

// endEpoch measures the epoch's model by the protocol, keeps it when it is the best so
// far, checkpoints, and emits the "epoch" event.
func (r *runner) endEpoch(epoch, total int) error {
	o := r.opts
	fig := &EpochFigures{Epoch: epoch}
	ev := Event{Kind: EventEpoch, Epoch: epoch, Epochs: o.Epochs, Iteration: r.st.Iteration, Iterations: total, Figures: fig}
	better := false
	switch o.Protocol {
	case Honest:
		// Model selection on normals only. The validation split has no anomalies, so it
		// has no AUC; of the two measures it offers, the mean anomaly score and the
		// reconstruction error, the score is no yardstick across epochs: it is a
		// distance between two latent codes whose scale the encoders choose and keep
		// changing, and it falls to zero when they collapse to a constant, which
		// detects nothing. The reconstruction error |x̂ − x| is in pixel units fixed by
		// the data, and it measures what GANomaly learns from normals: to reproduce
		// unseen normal images. So the epoch with the lowest mean validation L1 is kept
		// (eval-mode batch norm, as the exported model runs); the mean score is
		// reported beside it.
		s, err := r.score(r.split.Validation, false, false)
		if err != nil {
			return fmt.Errorf("epoch %d validation: %w", epoch, err)
		}
		fig.ValLoss, fig.ValScore = mean(s.recon), mean(s.scores)
		better = r.st.BestEpoch == 0 || fig.ValLoss < r.st.BestMetric
		if better {
			r.st.BestMetric = fig.ValLoss
		}
		if r.split.Watch != nil {
			if fig.Watch, err = r.watch(s.scores); err != nil {
				return fmt.Errorf("epoch %d, watched anomalies: %w", epoch, err)
			}
		}
	case Paper:
		s, err := r.score(r.split.Test, true, false)
		if err != nil {
			return fmt.Errorf("epoch %d test: %w", epoch, err)
		}
		scaled := minMaxScale(s.scores)
		rep, err := metrics.Evaluate(scaled, r.split.Test.Labels, PaperThreshold)
		if err != nil {
			return fmt.Errorf("epoch %d test: %w", epoch, err)
		}
		fig.TestAUC = rep.AUC
		better = r.st.BestEpoch == 0 || rep.AUC > r.st.BestMetric
		if better {
			r.st.BestMetric, r.st.BestReport, r.st.BestScores = rep.AUC, &rep, scaled
		}
	}
	if o.Samples > 0 {
		var err error
		if fig.Samples, err = r.samples(o.Samples); err != nil {
			return fmt.Errorf("epoch %d reconstructions: %w", epoch, err)
		}
	}
	if better {
		g, err := r.eng.Generator()
		if err != nil {
			return err
		}
		r.bestG, r.st.BestEpoch, fig.Best = g, epoch, true
	}
	r.st.Epoch = epoch
	ev.Protocol, ev.Label = o.Protocol, labelOf(o.Protocol)
	ev.Time = time.Now()
	r.st.History = append(r.st.History, ev)
	if o.CheckpointDir != "" || o.Checkpoints != nil {
		if err := r.checkpoint(); err != nil {
			return err
		}
	}
	r.emit(ev)
	return nil
}

func (r *runner) checkpoint() error {
	st, err := r.eng.State()
	if err != nil {
		return err
	}
	r.st.AdamGStep, r.st.AdamDStep, r.st.DReinits = st.AdamGStep, st.AdamDStep, st.DReinits
	c := &checkpoint{opts: r.opts, state: r.st, bestG: r.bestG, engine: st}
	if s := r.opts.Checkpoints; s != nil {
		f, err := c.file()
		if err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if err := s.Save(f); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		return nil
	}
	return writeCheckpoint(r.opts.CheckpointDir, c)
}

// minMaxScale is the official score normalisation: (s − min)/(max − min) over the
// whole test set. All-equal scores become 0 (the official code would divide by zero).
func minMaxScale(s []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range s {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	out := make([]float64, len(s))
	if hi > lo {
		for i, v := range s {
			out[i] = (v - lo) / (hi - lo)
		}
	}
	return out
}

// finish scores the kept model, calibrates it, and exports it.
func (r *runner) finish(total int) (*Result, error) {
	o, split := r.opts, r.split
	if err := r.eng.LoadGenerator(r.bestG); err != nil {
		return nil, err
	}
	res := &Result{
		BestEpoch: r.st.BestEpoch, Epochs: r.st.Epoch, Protocol: o.Protocol, Label: labelOf(o.Protocol),
		Labels: split.Test.Labels, History: r.st.History, Iterations: r.st.Iteration,
		TrainImages: split.Train.N, ValidationImages: setLen(split.Validation), TestImages: split.Test.N,
		Options: o, Warnings: split.Warnings, Tested: tested(split), WatchImages: setLen(split.Watch),
	}
	var cal model.Calibration
	switch o.Protocol {
	case Honest:
		v, err := r.score(split.Validation, false, false)
		if err != nil {
			return nil, err
		}
		if cal, err = model.CalibrateFromNormals(v.scores, o.Score, o.CalibrationQuantile); err != nil {
			return nil, err
		}
		cal.Method = fmt.Sprintf("honest protocol: %d validation normals held out from training (eval-mode batch norm); min and max map to 0 and 1, threshold at their %g quantile", len(v.scores), o.CalibrationQuantile)
		if !res.Tested {
			break
		}
		s, err := r.score(split.Test, false, true)
		if err != nil {
			return nil, err
		}
		if res.Test, err = metrics.Evaluate(s.scores, split.Test.Labels, cal.Threshold); err != nil {
			return nil, err
		}
		res.Scores, res.Latents = s.scores, s.z
	case Paper:
		res.Test, res.Scores = *r.st.BestReport, r.st.BestScores
		// The exported model scores one image at a time, in eval mode: calibrate it the
		// official way (min–max over the test set, threshold 0.20) on its own scores.
		s, err := r.score(split.Test, false, true)
		if err != nil {
			return nil, err
		}
		res.Latents = s.z
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range s.scores {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if !(hi > lo) {
			hi = lo + math.Max(1e-12, math.Abs(lo)*1e-6)
		}
		cal = model.Calibration{Score: o.Score, Min: lo, Max: hi, Threshold: lo + PaperThreshold*(hi-lo), Samples: len(s.scores),
			Method: PaperLabel + ": min–max of the exported model's (eval-mode) scores over the test set, threshold at 0.20 of that range, as the official code"}
		exported, err := metrics.Evaluate(s.scores, split.Test.Labels, cal.Threshold)
		if err != nil {
			return nil, err
		}
		res.Exported = &exported
	}
	if err := cal.Validate(); err != nil {
		return nil, err
	}
	res.Weights = &model.WeightsFile{
		Config:      o.Config,
		Calibration: cal,
		Provenance:  provenance(o, split, res),
		Tensors:     r.bestG,
	}
	msg := fmt.Sprintf("kept epoch %d of %d; test AUC %.4f, AP %.4f, best F1 %.4f, EER %.4f",
		res.BestEpoch, res.Epochs, res.Test.AUC, res.Test.AP, res.Test.BestF1, res.Test.EER)
	if !res.Tested {
		msg = fmt.Sprintf("kept epoch %d of %d; no known anomalies, so no test and no AUC: calibrated on %d validation normals, the threshold flags about %.0f%% of normal images",
			res.BestEpoch, res.Epochs, res.ValidationImages, 100*(1-o.CalibrationQuantile))
	}
	r.emit(Event{Kind: EventDone, Epoch: r.st.Epoch, Epochs: o.Epochs, Iteration: r.st.Iteration, Iterations: total,
		TestAUC: res.Test.AUC, Message: msg})
	return res, nil
}

func provenance(o Options, split *data.Split, res *Result) model.Provenance {
	dataset := split.Dataset
	if dataset == data.Folder {
		dataset = "folder:" + filepath.Base(split.Dir)
	}
	notes := fmt.Sprintf("kept epoch %d of %d; data seed %d, validation fraction %g, max train %d, max test %d; batch %d, lr %g, betas %g/%g, loss weights adv %g con %g enc %g; %d train, %d validation, %d test images",
		res.BestEpoch, res.Epochs, o.Data.Seed, o.Data.ValidationFraction, o.Data.MaxTrain, o.Data.MaxTest,
		o.BatchSize, o.LR, o.Beta1, o.Beta2, o.WAdv, o.WCon, o.WEnc, res.TrainImages, res.ValidationImages, res.TestImages)
	if o.Protocol == Paper {
		notes = PaperLabel + "; test AUC from train-mode batch norm on min–max scaled scores; " + notes
	}
	return model.Provenance{
		Dataset:      dataset,
		AnomalyClass: split.AnomalyClass,
		Protocol:     o.Protocol,
		Epochs:       res.Epochs,
		Seed:         o.Seed,
		TestAUC:      res.Test.AUC,
		Created:      time.Now().UTC().Truncate(time.Second),
		Trainer:      TrainerVersion + ", " + o.Engine + " engine",
		Notes:        notes,
	}
}

// Losses are the terms of one training step (the pure-Go trainer's type, which every
// engine reports).
type Losses = learn.Losses

func meanAbsDiff(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return s / float64(len(a))
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
