// Package jobrequest holds the rules of a training request (api.JobRequest): how it
// becomes the trainer's options, and how it is checked field by field against the
// trainer's rules and a host's limits. The server's jobs and the browser's own
// training both follow them.
package jobrequest

import (
	"errors"
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

// field is one request field: its JSON name, and how to copy it from one request to
// another.
type field struct {
	name string
	copy func(dst *api.JobRequest, src api.JobRequest)
}

var fields = []field{
	{"dataset", func(d *api.JobRequest, s api.JobRequest) { d.Dataset = s.Dataset }},
	{"anomaly_class", func(d *api.JobRequest, s api.JobRequest) { d.AnomalyClass = s.AnomalyClass }},
	{"channels", func(d *api.JobRequest, s api.JobRequest) { d.Channels = s.Channels }},
	{"epochs", func(d *api.JobRequest, s api.JobRequest) { d.Epochs = s.Epochs }},
	{"image_size", func(d *api.JobRequest, s api.JobRequest) { d.ImageSize = s.ImageSize }},
	{"protocol", func(d *api.JobRequest, s api.JobRequest) { d.Protocol = s.Protocol }},
	{"width", func(d *api.JobRequest, s api.JobRequest) { d.Width = s.Width }},
	{"batch_size", func(d *api.JobRequest, s api.JobRequest) { d.BatchSize = s.BatchSize }},
	{"max_train", func(d *api.JobRequest, s api.JobRequest) { d.MaxTrain = s.MaxTrain }},
	{"max_test", func(d *api.JobRequest, s api.JobRequest) { d.MaxTest = s.MaxTest }},
	{"max_iterations", func(d *api.JobRequest, s api.JobRequest) { d.MaxIterations = s.MaxIterations }},
	{"seed", func(d *api.JobRequest, s api.JobRequest) { d.Seed = s.Seed }},
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
		if msg := limits.RefuseField(f.name, one); msg != "" { // api's rules, which forms check as one types
			return &RequestError{f.name, msg}
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
