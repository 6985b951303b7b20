// Package jobrequest holds the rules of a training request (api.JobRequest): how it
// becomes the trainer's options, and how it is checked field by field against the
// trainer's rules and a host's limits. The server's jobs and the browser's own
// training both follow them.
package jobrequest

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// RequestError is a refused request: Field is the JSON name of the field at fault
// (empty when the fields only clash together), Message says why in words a user can
// act on.
type RequestError struct {
	Field   string
	Message string
}

func (e *RequestError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// TrainOptions turns a request into the trainer's options, the same the CLI would build
// from the equivalent flags. Zero optional fields take the trainer's defaults.
func TrainOptions(req api.JobRequest, device string) train.Options {
	o := train.DefaultOptions()
	// As the CLI: the data split's seed follows the run's seed.
	o.Data = data.Options{Dataset: req.Dataset, AnomalyClass: req.AnomalyClass, Seed: req.Seed,
		MaxTrain: req.MaxTrain, MaxTest: req.MaxTest}
	o.Config.ImageSize = req.ImageSize
	if req.Width != 0 {
		o.Config.Width = req.Width
	}
	if req.Channels != 0 {
		o.Config.Channels = req.Channels
	}
	if req.BatchSize != 0 {
		o.BatchSize = req.BatchSize
	}
	o.Epochs, o.Protocol, o.MaxIterations, o.Seed = req.Epochs, req.Protocol, req.MaxIterations, req.Seed
	o.Device = device
	// Dashboards show a few validation images reconstructed after every epoch.
	o.Samples = DashboardSamples
	return o
}

// DashboardSamples is how many reconstructions a job's epoch events carry.
const DashboardSamples = 6

// field is one request field: its JSON name, how to copy it from one request to
// another, and the server's limit on it, if any.
type field struct {
	name  string
	copy  func(dst *api.JobRequest, src api.JobRequest)
	limit func(r api.JobRequest, l api.JobLimits) string
}

var fields = []field{
	{"dataset", func(d *api.JobRequest, s api.JobRequest) { d.Dataset = s.Dataset }, func(r api.JobRequest, l api.JobLimits) string {
		// Only what the trainer knows and this server does not offer: the trainer's
		// own message is the better one for a name it does not know at all.
		if r.Dataset == data.Folder && !slices.Contains(l.Datasets, r.Dataset) {
			return fmt.Sprintf("data set %q is not offered by this server: use %s (train on a folder with `ganomaly train --dataset folder`)", r.Dataset, quoted(l.Datasets))
		}
		return ""
	}},
	{"anomaly_class", func(d *api.JobRequest, s api.JobRequest) { d.AnomalyClass = s.AnomalyClass }, nil},
	{"channels", func(d *api.JobRequest, s api.JobRequest) { d.Channels = s.Channels }, nil},
	{"epochs", func(d *api.JobRequest, s api.JobRequest) { d.Epochs = s.Epochs }, func(r api.JobRequest, l api.JobLimits) string {
		if r.Epochs < 1 || r.Epochs > l.MaxEpochs {
			return fmt.Sprintf("epochs %d: this server trains at least 1 and at most %d epochs per job", r.Epochs, l.MaxEpochs)
		}
		return ""
	}},
	{"image_size", func(d *api.JobRequest, s api.JobRequest) { d.ImageSize = s.ImageSize }, func(r api.JobRequest, l api.JobLimits) string {
		if !slices.Contains(l.ImageSizes, r.ImageSize) {
			return fmt.Sprintf("image size %d: this server trains images of %s pixels a side", r.ImageSize, joinInts(l.ImageSizes))
		}
		return ""
	}},
	{"protocol", func(d *api.JobRequest, s api.JobRequest) { d.Protocol = s.Protocol }, nil},
	{"width", func(d *api.JobRequest, s api.JobRequest) { d.Width = s.Width }, func(r api.JobRequest, l api.JobLimits) string {
		if r.Width > l.MaxWidth {
			return fmt.Sprintf("width %d: this server allows a width of at most %d", r.Width, l.MaxWidth)
		}
		return ""
	}},
	{"batch_size", func(d *api.JobRequest, s api.JobRequest) { d.BatchSize = s.BatchSize }, func(r api.JobRequest, l api.JobLimits) string {
		if r.BatchSize > l.MaxBatchSize {
			return fmt.Sprintf("batch size %d: this server allows at most %d images per step", r.BatchSize, l.MaxBatchSize)
		}
		return ""
	}},
	{"max_train", func(d *api.JobRequest, s api.JobRequest) { d.MaxTrain = s.MaxTrain }, func(r api.JobRequest, l api.JobLimits) string {
		if r.MaxTrain > l.MaxTrain {
			return fmt.Sprintf("max train %d: the data sets have %d train images; use 0 for all", r.MaxTrain, l.MaxTrain)
		}
		return ""
	}},
	{"max_test", func(d *api.JobRequest, s api.JobRequest) { d.MaxTest = s.MaxTest }, nil},
	{"max_iterations", func(d *api.JobRequest, s api.JobRequest) { d.MaxIterations = s.MaxIterations }, nil},
	{"seed", func(d *api.JobRequest, s api.JobRequest) { d.Seed = s.Seed }, nil},
}

// Validate checks a request: each field alone by the trainer's own rules (a request
// that is the defaults but for that field must pass train.Options.Validate), then by
// the server's limits, then all fields together. The first refusal is returned, as a
// *RequestError.
func Validate(req api.JobRequest, limits api.JobLimits, device string) error {
	for _, f := range fields {
		one := limits.Defaults
		f.copy(&one, req)
		// The server's limits first: they are narrower than the trainer's, so where
		// both refuse, the server's reason is the one that applies to a job (the
		// trainer would say "1 to 10000 epochs", or ask a folder data set for a folder,
		// which a job cannot name).
		if f.limit != nil {
			if msg := f.limit(one, limits); msg != "" {
				return &RequestError{f.name, msg}
			}
		}
		if err := TrainOptions(one, device).Validate(); err != nil {
			return &RequestError{f.name, reason(err)}
		}
	}
	if err := TrainOptions(req, device).Validate(); err != nil {
		// Settings that only clash together: the first one named is the field.
		field := ""
		if invs := model.Invalids(err); len(invs) > 0 {
			field = invs[0].Setting
		}
		return &RequestError{field, reason(err)}
	}
	return nil
}

// reason says why the trainer refuses a request, in the trainer's own words for each
// setting (model.Invalid), without the packages' context ("train: invalid options"),
// which says nothing to someone filling a form.
func reason(err error) string {
	var msgs []string
	for _, inv := range model.Invalids(err) {
		msgs = append(msgs, inv.Reason)
	}
	if len(msgs) == 0 {
		return err.Error() // not a setting: say it as it is
	}
	return strings.Join(msgs, "; ")
}

// IsRequestError reports whether err is a refused request, and returns it.
func IsRequestError(err error) (*RequestError, bool) {
	var re *RequestError
	ok := errors.As(err, &re)
	return re, ok
}

func quoted(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " or ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
