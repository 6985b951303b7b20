package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model/progress"
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/wasm/api/jobevent"
	"github.com/ganomaly-go/ganomaly-go/wasm/api/jobrequest"
)

// Errors of the Manager's methods, to be told apart with errors.Is.
var (
	ErrNotFound = errors.New("no such job")
	// ErrConflict: the job's state does not allow what was asked (cancel a finished
	// job, resume one that was not interrupted).
	ErrConflict  = errors.New("not possible in the job's state")
	ErrQueueFull = errors.New("the queue is full")
	ErrClosed    = errors.New("the job manager is shut down")
)

// Causes of a running job's cancellation.
var (
	errCancelled = errors.New("cancelled by a user")
	errShutdown  = errors.New("the server is shutting down")
)

// Options configure a Manager.
type Options struct {
	// ModelsDir is where succeeded jobs publish their models; the jobs live in its
	// "jobs" subfolder.
	ModelsDir string
	// Device is the device jobs train on: "auto" (the default), "cpu", "cuda" or
	// "cuda:N". One job runs at a time on it.
	Device string
	// Engine is the trainer: train.EngineAuto (the default: libtorch when the binary
	// links it, else pure Go), train.EngineGo or train.EngineTorch.
	Engine string
	// Limits replaces DefaultLimits(Engine, Device) (tests).
	Limits *api.JobLimits
	// Logger receives the jobs' starts and ends (default slog.Default()).
	Logger *slog.Logger
	// KeepJobs is how many finished jobs (succeeded, failed, cancelled) are kept,
	// with their folders and checkpoints; older ones are deleted when a job ends and
	// at Open. Their published models stay. 0 means DefaultKeepJobs, negative all.
	// Interrupted jobs are never deleted this way: they can still be resumed.
	KeepJobs int
	// Published, when set, is called after a job has published a model (the
	// server's catalog rescans at once instead of waiting for the folder's event).
	Published func(name string)
}

// DefaultKeepJobs is how many finished jobs a server keeps by default.
const DefaultKeepJobs = 100

// JobsFolder is the subfolder of the models folder that holds the jobs.
const JobsFolder = "jobs"

// Manager queues training jobs and runs them one at a time. Its methods may be called
// from any goroutine.
type Manager struct {
	modelsDir, dir, device string
	engine                 string
	limits                 api.JobLimits
	log                    *slog.Logger
	keep                   int // finished jobs kept (see Options.KeepJobs); negative: all
	published              func(name string)
	// measured is the throughput of the last job that logged a step, for estimates.
	measured *api.Throughput

	mu      sync.Mutex
	jobs    map[string]*job
	queue   []*job
	running *job
	closed  bool

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// job is a job and its event log, guarded by Manager.mu.
type job struct {
	api.Job
	dir    string
	events []api.JobEvent
	// changed is closed and replaced at each new event, waking every stream.
	changed    chan struct{}
	cancel     context.CancelCauseFunc
	cancelling bool
	// stepsSent is the highest step whose event is in the log. A resumed run redoes
	// the steps after its checkpoint; those already sent are not sent again.
	stepsSent int
}

// Open loads the jobs of o.ModelsDir (marking those a stopped server left queued or
// running as interrupted) and starts the queue. Close stops it.
func Open(o Options) (*Manager, error) {
	if o.ModelsDir == "" {
		return nil, errors.New("jobs: a models folder is needed to publish trained models")
	}
	if o.Device == "" {
		o.Device = "auto"
	}
	probe := train.DefaultOptions()
	probe.Engine, probe.Device = o.Engine, o.Device
	if err := probe.Validate(); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	m := &Manager{
		modelsDir: o.ModelsDir, dir: filepath.Join(o.ModelsDir, JobsFolder), device: o.Device, engine: o.Engine,
		log:       o.Logger,
		keep:      cmp.Or(o.KeepJobs, DefaultKeepJobs),
		published: o.Published,
		jobs:      map[string]*job{},
		wake:      make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	if o.Limits != nil {
		m.limits = *o.Limits
	} else {
		m.limits = DefaultLimits(o.Engine, o.Device)
	}
	if err := m.load(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.pruneLocked()
	m.mu.Unlock()
	go m.loop()
	return m, nil
}

// Limits are the server's limits and defaults for a request.
func (m *Manager) Limits() api.JobLimits {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.limits
	if m.measured != nil {
		t := *m.measured
		l.Measured = &t
	}
	return l
}

// Submit checks a request and queues it. A refused request is a *jobrequest.RequestError.
func (m *Manager) Submit(req api.JobRequest) (api.Job, error) {
	if err := jobrequest.Validate(req, m.limits, m.device); err != nil {
		return api.Job{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return api.Job{}, ErrClosed
	}
	if len(m.queue) >= m.limits.MaxQueued {
		return api.Job{}, fmt.Errorf("%w: %d jobs are waiting; try again when one has started", ErrQueueFull, len(m.queue))
	}
	id, err := m.newID()
	if err != nil {
		return api.Job{}, err
	}
	j := &job{Job: api.Job{ID: id, State: api.JobQueued, Request: req, Created: now(), Epochs: []api.EpochFigures{}},
		dir: filepath.Join(m.dir, id), changed: make(chan struct{})}
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return api.Job{}, fmt.Errorf("jobs: cannot create the job's folder: %w", err)
	}
	m.jobs[id] = j
	m.enqueueLocked(j)
	m.log.Info("job queued", "job", id, "dataset", req.Dataset, "class", req.AnomalyClass, "epochs", req.Epochs)
	return m.snapshotLocked(j), nil
}

// enqueueLocked puts a job at the end of the queue, says so in its events and wakes
// the dispatcher.
func (m *Manager) enqueueLocked(j *job) {
	j.State = api.JobQueued
	m.queue = append(m.queue, j)
	m.addEventLocked(j, api.JobEvent{Event: progress.Event{Kind: api.EventState, Message: "waiting for the device"}, State: api.JobQueued})
	m.saveLocked(j)
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *Manager) newID() (string, error) {
	for {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		id := hex.EncodeToString(b[:])
		if _, taken := m.jobs[id]; !taken {
			if _, err := os.Stat(filepath.Join(m.dir, id)); errors.Is(err, os.ErrNotExist) {
				return id, nil
			}
		}
	}
}

// List returns every job, newest first.
func (m *Manager) List() []api.Job {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]api.Job, 0, len(m.jobs))
	for _, j := range m.jobs {
		out = append(out, m.snapshotLocked(j))
	}
	slices.SortFunc(out, func(a, b api.Job) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return compareStrings(b.ID, a.ID)
	})
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Get returns one job.
func (m *Manager) Get(id string) (api.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return api.Job{}, fmt.Errorf("%w %q", ErrNotFound, id)
	}
	return m.snapshotLocked(j), nil
}

// snapshotLocked copies a job for a caller: the copy shares nothing that changes.
func (m *Manager) snapshotLocked(j *job) api.Job {
	out := j.Job
	out.Epochs = slices.Clone(j.Epochs)
	if out.Epochs == nil {
		out.Epochs = []api.EpochFigures{}
	}
	out.QueuePosition = 0
	if i := slices.Index(m.queue, j); i >= 0 {
		out.QueuePosition = i + 1
	}
	return out
}

// Cancel stops a job: a queued one leaves the queue, a running one stops between two
// steps (Cancel waits up to wait for it). Cancelling a job that has ended, or that is
// being cancelled already, is an ErrConflict.
func (m *Manager) Cancel(id string, wait time.Duration) (api.Job, error) {
	m.mu.Lock()
	j, ok := m.jobs[id]
	if !ok {
		m.mu.Unlock()
		return api.Job{}, fmt.Errorf("%w %q", ErrNotFound, id)
	}
	switch {
	case j.State == api.JobQueued:
		m.queue = slices.DeleteFunc(m.queue, func(q *job) bool { return q == j })
		m.endLocked(j, api.JobCancelled, errCancelled.Error())
	case j.State == api.JobInterrupted:
		m.endLocked(j, api.JobCancelled, errCancelled.Error())
	case j.State == api.JobRunning && !j.cancelling:
		j.cancelling = true
		j.cancel(errCancelled)
		m.log.Info("job cancelling", "job", id)
	case j.State == api.JobRunning:
		m.mu.Unlock()
		return api.Job{}, fmt.Errorf("%w: job %s is being cancelled already", ErrConflict, id)
	default:
		m.mu.Unlock()
		return api.Job{}, fmt.Errorf("%w: job %s has already ended (%s)", ErrConflict, id, j.State)
	}
	deadline := time.After(wait)
	for !j.State.Ended() {
		changed := j.changed
		m.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			m.mu.Lock()
			defer m.mu.Unlock()
			return m.snapshotLocked(j), nil
		}
		m.mu.Lock()
	}
	defer m.mu.Unlock()
	return m.snapshotLocked(j), nil
}

// Delete removes a job that has ended, with its folder (checkpoints, events); the
// model a succeeded job published stays in the models folder. A queued or running
// job must be cancelled first.
func (m *Manager) Delete(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	switch {
	case !ok:
		return fmt.Errorf("%w %q", ErrNotFound, id)
	case !j.State.Ended():
		return fmt.Errorf("%w: job %s is %s: cancel it before deleting it", ErrConflict, id, j.State)
	}
	return m.deleteLocked(j)
}

func (m *Manager) deleteLocked(j *job) error {
	// The record goes first: a folder half removed is not listed again after a
	// restart, because it has no job file any more.
	if err := os.Remove(filepath.Join(j.dir, jobFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("jobs: deleting job %s: %w", j.ID, err)
	}
	delete(m.jobs, j.ID)
	if err := os.RemoveAll(j.dir); err != nil {
		m.log.Warn("job deleted; its folder was not removed whole", "job", j.ID, "err", err)
	}
	m.log.Info("job deleted", "job", j.ID)
	return nil
}

// pruneLocked deletes the oldest finished jobs beyond m.keep.
func (m *Manager) pruneLocked() {
	if m.keep < 0 {
		return
	}
	var finished []*job
	for _, j := range m.jobs {
		if j.State.Ended() && j.State != api.JobInterrupted {
			finished = append(finished, j)
		}
	}
	if len(finished) <= m.keep {
		return
	}
	slices.SortFunc(finished, func(a, b *job) int { // newest first
		if c := b.Finished.Compare(a.Finished); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	for _, j := range finished[m.keep:] {
		if err := m.deleteLocked(j); err != nil {
			m.log.Warn("retention: could not delete a job", "job", j.ID, "err", err)
		}
	}
}

// Resume queues an interrupted job again; it continues from its checkpoint when it has
// one.
func (m *Manager) Resume(id string) (api.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	switch {
	case !ok:
		return api.Job{}, fmt.Errorf("%w %q", ErrNotFound, id)
	case m.closed:
		return api.Job{}, ErrClosed
	case j.State != api.JobInterrupted:
		return api.Job{}, fmt.Errorf("%w: only an interrupted job can be resumed; job %s is %s", ErrConflict, id, j.State)
	case len(m.queue) >= m.limits.MaxQueued:
		return api.Job{}, fmt.Errorf("%w: %d jobs are waiting", ErrQueueFull, len(m.queue))
	}
	j.Resumable, j.Error, j.Finished = false, "", time.Time{}
	m.enqueueLocked(j)
	m.log.Info("job resumed", "job", id, "from_checkpoint", j.Checkpoint)
	return m.snapshotLocked(j), nil
}

// Close interrupts the running job (its checkpoint stays) and every queued one, and
// waits until the running one has stopped and been saved, or ctx is done.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		for _, j := range m.queue {
			m.endLocked(j, api.JobInterrupted, "the server stopped before the job started")
		}
		m.queue = nil
		if j := m.running; j != nil {
			j.cancel(errShutdown)
		}
		close(m.stop)
	}
	m.mu.Unlock()
	select {
	case <-m.done:
	case <-ctx.Done():
		return fmt.Errorf("jobs: the running job did not stop in time: %w", ctx.Err())
	}
	return nil
}

// loop is the dispatcher: it runs the queue's jobs one after the other.
func (m *Manager) loop() {
	defer close(m.done)
	for {
		if j, ctx := m.next(); j != nil {
			m.run(ctx, j)
			continue
		}
		select {
		case <-m.wake:
		case <-m.stop:
			return
		}
	}
}

// next takes the first job off the queue and marks it running, under one lock so
// that a Cancel sees it either queued or running, never in between.
func (m *Manager) next() (*job, context.Context) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || len(m.queue) == 0 {
		return nil, nil
	}
	j := m.queue[0]
	m.queue = m.queue[1:]
	ctx, cancel := context.WithCancelCause(context.Background())
	j.cancel, j.cancelling = cancel, false
	j.State, j.Started, j.Error = api.JobRunning, now(), ""
	msg := "started"
	if j.Checkpoint && fileExists(train.CheckpointPath(j.dir)) {
		msg = "resumed from the checkpoint of its last finished epoch"
	}
	m.addEventLocked(j, api.JobEvent{Event: progress.Event{Kind: api.EventState, Message: msg}, State: api.JobRunning})
	m.saveLocked(j)
	m.running = j
	return j, ctx
}

func (m *Manager) run(ctx context.Context, j *job) {
	defer j.cancel(nil)
	m.mu.Lock()
	req := j.Request
	resume := j.Checkpoint && fileExists(train.CheckpointPath(j.dir))
	m.mu.Unlock()

	o := jobrequest.TrainOptions(req, m.device)
	o.Engine = m.engine
	o.CheckpointDir, o.Resume, o.LogEvery = j.dir, resume, logEvery(o)
	start := time.Now()
	m.log.Info("job running", "job", j.ID, "resume", resume)
	res, err := train.Run(ctx, o, func(e train.Event) { m.onEvent(j, e) })
	var name string
	if err == nil {
		name, err = m.publish(j, res)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.running = nil
	cause := context.Cause(ctx)
	switch {
	case err == nil:
		j.Model = name
		j.TestAUC = res.Test.AUC
		m.endLocked(j, api.JobSucceeded, "")
		m.log.Info("job succeeded", "job", j.ID, "model", name, "took", time.Since(start).Round(time.Millisecond), "test_auc", res.Test.AUC)
	case errors.Is(cause, errShutdown):
		m.endLocked(j, api.JobInterrupted, interruptedMessage(j))
		m.log.Info("job interrupted", "job", j.ID, "checkpoint", j.Checkpoint)
	case errors.Is(cause, errCancelled):
		m.endLocked(j, api.JobCancelled, errCancelled.Error())
		m.log.Info("job cancelled", "job", j.ID)
	default:
		m.endLocked(j, api.JobFailed, err.Error())
		m.log.Warn("job failed", "job", j.ID, "err", err)
	}
}

// interruptedMessage says where an interrupted job stands and what resuming does.
func interruptedMessage(j *job) string {
	msg := fmt.Sprintf("the server stopped while the job ran (step %d of %d)", j.Progress.Iteration, j.Progress.Iterations)
	if n := len(j.Epochs); n > 0 && fileExists(train.CheckpointPath(j.dir)) {
		return msg + fmt.Sprintf("; resuming continues after epoch %d", j.Epochs[n-1].Epoch)
	}
	return msg + "; no epoch had finished, so resuming starts it again"
}

// endLocked puts a job in a final (or interrupted) state and emits its end event.
func (m *Manager) endLocked(j *job, state api.JobState, msg string) {
	j.State, j.Finished, j.Error = state, now(), msg
	j.cancelling = false
	if state == api.JobInterrupted {
		j.Resumable = true
		j.Checkpoint = fileExists(train.CheckpointPath(j.dir))
	} else {
		j.Resumable = false
	}
	m.addEventLocked(j, api.JobEvent{Event: progress.Event{Kind: api.EventEnd, TestAUC: j.TestAUC}, State: state, Error: msg, Model: j.Model})
	m.saveLocked(j)
	if state != api.JobInterrupted {
		m.pruneLocked()
	}
}

// maxStepEvents bounds the step events of one job, so that its log (kept in memory and
// replayed to every client) stays small whatever its length.
const maxStepEvents = 1000

// logEvery chooses the trainer's LogEvery so that a job logs at most about
// maxStepEvents steps: every step of a short job, fewer of a long one. The number of
// steps is estimated before the data is loaded, from the size of one class's train
// normals in MNIST and Fashion-MNIST (about 6000).
func logEvery(o train.Options) int {
	n := o.Data.MaxTrain
	if n == 0 || n > 6000 {
		n = 6000
	}
	steps := o.Epochs * max(1, n/o.BatchSize)
	if o.MaxIterations > 0 {
		steps = min(steps, o.MaxIterations)
	}
	return max(1, steps/maxStepEvents)
}

// onEvent turns a trainer's event into the job's, on the worker's thread: it only
// records and hands on.
func (m *Manager) onEvent(j *job, e train.Event) {
	ev, ok := jobevent.From(e)
	if !ok {
		return // errors reach the job's end event through Run's return; unknown kinds are dropped
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p := &j.Progress
	p.Epochs, p.Iterations, p.Iteration = e.Epochs, e.Iterations, e.Iteration
	if e.Label != "" {
		j.Label = e.Label
	}
	switch ev.Kind {
	case api.EventStart:
		p.Epoch = min(e.Epoch+1, e.Epochs)
		// A run that starts again (no checkpoint) forgets the epochs it will redo.
		j.Epochs = slices.DeleteFunc(j.Epochs, func(f api.EpochFigures) bool { return f.Epoch > e.Epoch })
	case api.EventStep:
		p.Epoch, p.Losses, p.ImagesPerSecond, p.ETASeconds = e.Epoch, ev.Losses, ev.ImagesPerSecond, ev.ETASeconds
		if ev.ImagesPerSecond > 0 {
			d := m.limits.Defaults
			m.measured = &api.Throughput{Width: cmp.Or(j.Request.Width, d.Width), ImageSize: cmp.Or(j.Request.ImageSize, d.ImageSize),
				Channels: cmp.Or(j.Request.Channels, 1), ImagesPerSecond: ev.ImagesPerSecond}
		}
		if e.Iteration <= j.stepsSent {
			return // redone after a resume: its event is in the log already
		}
		j.stepsSent = e.Iteration
	case api.EventEpoch:
		// The job keeps the figures; the reconstructions stay in its event log.
		f := *ev.Figures
		f.Samples = nil
		j.Epochs = append(slices.DeleteFunc(j.Epochs, func(g api.EpochFigures) bool { return g.Epoch >= e.Epoch }), f)
		// Each finished epoch has a checkpoint: from here on, a resume continues.
		j.Checkpoint = true
		p.Epoch = min(e.Epoch+1, e.Epochs)
	case api.EventDone:
		p.Epoch, p.ETASeconds = e.Epoch, 0
	}
	m.addEventLocked(j, ev)
	if e.Kind != train.EventStep { // steps are many; their figures are in the log
		m.saveLocked(j)
	}
}

func now() time.Time { return time.Now().UTC() }

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}
