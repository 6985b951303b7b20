package api

import (
	"fmt"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/progress"
	"strconv"
	"strings"
	"time"
)

// Paths of the training jobs API. Reading needs nothing; starting, cancelling and
// resuming need the server's token in an "Authorization: Bearer <token>" header.
const (
	// JobsPath answers GET with a [JobList] and POST (a [JobRequest]) with the new [Job].
	JobsPath = "/api/jobs"
	// JobLimitsPath answers GET with the server's [JobLimits].
	JobLimitsPath = "/api/jobs/limits"
	// JobsPrefix is followed by a job's id: GET it, DELETE (cancel) it, or add
	// "/events" (a Server-Sent Events stream of [JobEvent]) or "/resume" (POST).
	JobsPrefix = "/api/jobs/"
	// LastEventIDParam is the query parameter that stands in for the Last-Event-ID
	// header where a client cannot set headers (a new EventSource).
	LastEventIDParam = "last_event_id"
)

// JobURL, JobEventsURL and JobResumeURL are a job's URLs.
func JobURL(id string) string       { return JobsPrefix + id }
func JobEventsURL(id string) string { return JobsPrefix + id + "/events" }
func JobResumeURL(id string) string { return JobsPrefix + id + "/resume" }

// JobEventsFrom is the URL of a job's event stream after sequence number last: the
// events replayed start at last+1 (0: from the beginning).
func JobEventsFrom(id string, last int) string {
	if last <= 0 {
		return JobEventsURL(id)
	}
	return JobEventsURL(id) + "?" + LastEventIDParam + "=" + strconv.Itoa(last)
}

// JobRequest asks the server to train a model. Zero optional fields take the server's
// defaults ([JobLimits].Defaults).
type JobRequest struct {
	// Dataset is "mnist" or "fashion-mnist"; AnomalyClass (0–9) is held out as the
	// anomaly.
	Dataset      string `json:"dataset"`
	AnomalyClass int    `json:"anomaly_class"`
	Epochs       int    `json:"epochs"`
	// ImageSize is the side of the square images: 16, 32 or 64.
	ImageSize int `json:"image_size"`
	// Protocol is "honest" (selection and calibration on validation normals) or
	// "paper" (the official code's test-set model selection).
	Protocol string `json:"protocol"`

	// Channels is 1 (grey, the default) or 3 (colour).
	Channels int `json:"channels,omitempty"`
	// Width is the network's feature width ngf (default 64).
	Width int `json:"width,omitempty"`
	// BatchSize is the number of images per step (default 64).
	BatchSize int `json:"batch_size,omitempty"`
	// MaxTrain and MaxTest cap the train normals and the test images (0: all).
	MaxTrain int `json:"max_train,omitempty"`
	MaxTest  int `json:"max_test,omitempty"`
	// MaxIterations caps the training steps of the whole job (0: no cap), for tiny jobs.
	MaxIterations int `json:"max_iterations,omitempty"`
	// Seed drives the initialisation, the batch order and the data split.
	Seed int64 `json:"seed,omitempty"`
}

// JobLimits are what this server accepts, for a form to show before it asks.
type JobLimits struct {
	Datasets     []string `json:"datasets"`
	Protocols    []string `json:"protocols"`
	ImageSizes   []int    `json:"image_sizes"`
	MaxEpochs    int      `json:"max_epochs"`
	MaxImageSize int      `json:"max_image_size"`
	MaxWidth     int      `json:"max_width"`
	MaxBatchSize int      `json:"max_batch_size"`
	MaxTrain     int      `json:"max_train"`
	// MaxQueued is how many jobs may wait at once.
	MaxQueued int `json:"max_queued"`
	// Defaults are the values a zero optional field takes.
	Defaults JobRequest `json:"defaults"`
	// Device is the device jobs train on, as configured ("auto", "cpu", "cuda"), and
	// DeviceName what that is on this server, in words ("CPU, 2 cores").
	Device     string `json:"device"`
	DeviceName string `json:"device_name,omitempty"`
	// Measured is the training throughput of the server's last job, for estimates
	// before a job starts; nil until a job has run since the server started.
	Measured *Throughput `json:"measured,omitempty"`
}

// Throughput is how fast a job trained: images per second at its width, image size
// and channels.
type Throughput struct {
	Width           int     `json:"width"`
	ImageSize       int     `json:"image_size"`
	Channels        int     `json:"channels"`
	ImagesPerSecond float64 `json:"images_per_second"`
}

// JobState is where a job is in its life.
type JobState string

// Job states. Succeeded, failed and cancelled are final; an interrupted job (the
// server stopped while it ran or waited) can be resumed.
const (
	JobQueued      JobState = "queued"
	JobRunning     JobState = "running"
	JobSucceeded   JobState = "succeeded"
	JobFailed      JobState = "failed"
	JobCancelled   JobState = "cancelled"
	JobInterrupted JobState = "interrupted"
)

// Ended reports whether a job in state s has stopped: nothing more happens to it
// unless it is resumed (interrupted only).
func (s JobState) Ended() bool {
	switch s {
	case JobSucceeded, JobFailed, JobCancelled, JobInterrupted:
		return true
	}
	return false
}

// Job is a training job as GET [JobsPath] and GET [JobURL] describe it.
type Job struct {
	ID      string     `json:"id"`
	State   JobState   `json:"state"`
	Request JobRequest `json:"request"`
	// Created, Started (last start, or resume) and Finished are UTC times.
	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	// QueuePosition is 1 for the next job to run, 0 when not queued.
	QueuePosition int         `json:"queue_position,omitempty"`
	Progress      JobProgress `json:"progress"`
	// Epochs holds the validation figures of each finished epoch.
	Epochs []EpochFigures `json:"epochs"`
	// Error says why a job failed or stopped.
	Error string `json:"error,omitempty"`
	// Model is the name under which the trained model was published (succeeded jobs):
	// it is in the model list, and its weights at WeightsPrefix+Model+WeightsExt.
	Model string `json:"model,omitempty"`
	// Resumable is set on an interrupted job; Checkpoint says whether it will continue
	// after a finished epoch (true) or start again (false).
	Resumable  bool `json:"resumable,omitempty"`
	Checkpoint bool `json:"checkpoint,omitempty"`
	// LastEvent is the sequence number of the job's latest event.
	LastEvent int `json:"last_event"`
	// TestAUC is the final test AUC of a succeeded job.
	TestAUC float64 `json:"test_auc,omitempty"`
	// Label is the paper protocol's warning label, empty otherwise.
	Label string `json:"label,omitempty"`
}

// JobProgress is a job's latest training figures.
type JobProgress struct {
	// Epoch is the epoch in progress (from 1), Epochs the job's total.
	Epoch  int `json:"epoch"`
	Epochs int `json:"epochs"`
	// Iteration is the number of steps taken, Iterations the job's total.
	Iteration  int     `json:"iteration"`
	Iterations int     `json:"iterations"`
	Losses     *Losses `json:"losses,omitempty"`
	// ImagesPerSecond is the latest training throughput; ETASeconds the time left.
	ImagesPerSecond float64 `json:"images_per_second,omitempty"`
	ETASeconds      float64 `json:"eta_seconds,omitempty"`
}

// Fraction is the share of the job's steps taken, in [0, 1].
func (p JobProgress) Fraction() float64 {
	if p.Iterations <= 0 {
		return 0
	}
	return min(1, max(0, float64(p.Iteration)/float64(p.Iterations)))
}

// Losses are the terms of a training step: the model's own type, so that the
// trainers, the server and the browser share one schema.
type Losses = model.Losses

// EpochFigures and Sample are the run's own (package model/progress).
type (
	EpochFigures = progress.EpochFigures
	Sample       = progress.Sample
	Separation   = progress.Separation
)

// Kinds of [JobEvent].
const (
	// EventState: the job changed state (queued, running); State says to what.
	EventState = "state"
	// EventStart, EventStep, EventEpoch and EventDone come from the trainer: the run
	// starts (Epoch is the epochs already finished when it resumes), a logged step
	// (Losses), a finished epoch (Figures), training and evaluation done (TestAUC).
	EventStart = progress.EventStart
	EventStep  = progress.EventStep
	EventEpoch = progress.EventEpoch
	EventDone  = progress.EventDone
	// EventEnd is a job's last event of a run: State is final, with Error or Model.
	// The stream ends after it.
	EventEnd = "end"
)

// JobEvent is the data of one Server-Sent Event of [JobEventsURL]; its SSE id is Seq.
// A trainer's event is carried as the trainer wrote it (progress.Event: one schema
// from the trainer to the wire); a job adds its sequence number and, in "state" and
// "end" events, its state, error and published model.
type JobEvent struct {
	Seq int `json:"seq"`
	progress.Event
	State JobState `json:"state,omitempty"`
	Error string   `json:"error,omitempty"`
	Model string   `json:"model,omitempty"`
}

// Final reports whether e ends a job's stream.
func (e JobEvent) Final() bool { return e.Kind == EventEnd }

// JobList is the answer to GET [JobsPath]: the jobs, newest first, and the limits.
type JobList struct {
	Jobs   []Job     `json:"jobs"`
	Limits JobLimits `json:"limits"`
}

// Error codes of the jobs API (in [Error].Code).
const (
	CodeInvalidJob   = "invalid_job"
	CodeBadJSON      = "bad_json"
	CodeUnauthorized = "unauthorized"
	CodeJobNotFound  = "job_not_found"
	CodeJobConflict  = "job_conflict"
	CodeQueueFull    = "queue_full"
	CodeNoTraining   = "training_unavailable"
	// Codes of PUT [ModelURL]: a refused upload, a name taken, a server without
	// uploads.
	CodeBadUpload   = "bad_upload"
	CodeModelExists = "model_exists"
	CodeNoUploads   = "uploads_unavailable"
)

// ModelURL is where a model is published with PUT (token; multipart/form-data with
// "weights" and an optional "card"; ?replace=1 replaces a model of that name).
func ModelURL(name string) string { return ModelsPath + "/" + name }

// BearerToken returns the header value that carries token.
func BearerToken(token string) string { return "Bearer " + strings.TrimSpace(token) }

// ParseBearer takes the token out of an Authorization header value; ok is false when
// the value is not a bearer credential.
func ParseBearer(header string) (token string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// FormatETA writes a duration in seconds as a person reads it: "45 s", "3 min 20 s",
// "1 h 05 min".
func FormatETA(seconds float64) string {
	s := int(seconds + 0.5)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %02d s", s/60, s%60)
	default:
		return fmt.Sprintf("%d h %02d min", s/3600, s/60%60)
	}
}

// BrowserLimits are what the browser trains on its own (no server): a phone must be
// able to, so the sizes are the small ones, on the MNIST digits it carries (the pack
// of model/data: 5,400 train and 600 validation normals with any digit held out);
// everything else follows the trainer's rules.
var BrowserLimits = JobLimits{
	Datasets: []string{"mnist"}, Protocols: []string{"honest", "paper"}, ImageSizes: []int{16, 32},
	MaxEpochs: 20, MaxImageSize: 32, MaxWidth: 32, MaxBatchSize: 256, MaxTrain: 6000, MaxQueued: 1,
	Defaults: JobRequest{Dataset: "mnist", AnomalyClass: 2, Epochs: 3, ImageSize: 32, Protocol: "honest",
		Width: 16, BatchSize: 64, MaxTrain: 6000, MaxTest: 2000},
	Device: "cpu", DeviceName: "this browser's cores",
}
