package api

import (
	"fmt"
	"slices"
	"strings"
)

// limitFields are the request fields a server limits, in the order they are checked.
var limitFields = []string{"dataset", "epochs", "image_size", "width", "batch_size", "max_train"}

// Refuse says which field of r is outside the limits l, and why, in words a user can
// act on; field is "" when r is within them. These are the rules a form checks as
// one types; the server then applies the trainer's own (jobrequest.Validate), which
// starts with these.
func (l JobLimits) Refuse(r JobRequest) (field, msg string) {
	for _, f := range limitFields {
		if msg := l.RefuseField(f, r); msg != "" {
			return f, msg
		}
	}
	return "", ""
}

// RefuseField is Refuse for the field named by its JSON name alone; "" when that
// field is within the limits (or is not one the limits constrain).
func (l JobLimits) RefuseField(field string, r JobRequest) string {
	switch field {
	case "dataset":
		// Only what the trainer knows and this server does not offer: the trainer's
		// own message is the better one for a name it does not know at all.
		if r.Dataset == "folder" && !slices.Contains(l.Datasets, r.Dataset) {
			return fmt.Sprintf("data set %q is not offered by this server: use %s (train on a folder with `ganomaly train --dataset folder`)", r.Dataset, quoted(l.Datasets))
		}
	case "epochs":
		if r.Epochs < 1 || r.Epochs > l.MaxEpochs {
			return fmt.Sprintf("epochs %d: this server trains at least 1 and at most %d epochs per job", r.Epochs, l.MaxEpochs)
		}
	case "image_size":
		if !slices.Contains(l.ImageSizes, r.ImageSize) {
			return fmt.Sprintf("image size %d: this server trains images of %s pixels a side", r.ImageSize, joinInts(l.ImageSizes))
		}
	case "width":
		if r.Width > l.MaxWidth {
			return fmt.Sprintf("width %d: this server allows a width of at most %d", r.Width, l.MaxWidth)
		}
	case "batch_size":
		if r.BatchSize > l.MaxBatchSize {
			return fmt.Sprintf("batch size %d: this server allows at most %d images per step", r.BatchSize, l.MaxBatchSize)
		}
	case "max_train":
		if r.MaxTrain > l.MaxTrain {
			return fmt.Sprintf("max train %d: the data sets have %d train images; use 0 for all", r.MaxTrain, l.MaxTrain)
		}
	}
	return ""
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

// trainNormals approximates the train images of one anomaly class of MNIST or
// Fashion-MNIST: 63,000 normals pooled, 80 % for training, 10 % of those kept for
// validation.
const trainNormals = 63000 * 8 / 10 * 9 / 10

// Estimate is about how long r would train on this server, in seconds, scaled from
// the last job's throughput by the work of a step (the width squared times the pixels,
// times the channels of the first layer); ok is false without a measurement. It leaves
// out the validation and test passes, a few percent of a job.
func (l JobLimits) Estimate(r JobRequest) (seconds float64, ok bool) {
	m := l.Measured
	if m == nil || m.ImagesPerSecond <= 0 || m.Width <= 0 || m.ImageSize <= 0 {
		return 0, false
	}
	d := l.Defaults
	width, size, channels, batch := cmpOr(r.Width, d.Width), cmpOr(r.ImageSize, d.ImageSize), cmpOr(r.Channels, 1), cmpOr(r.BatchSize, d.BatchSize)
	train := trainNormals
	if r.MaxTrain > 0 {
		train = min(train, r.MaxTrain*9/10)
	}
	batch = max(batch, 1)
	images := float64(r.Epochs) * float64(max(batch, train-train%batch)) // at least one step an epoch
	if r.MaxIterations > 0 {
		images = min(images, float64(r.MaxIterations*batch))
	}
	work := func(w, s, c int) float64 { return float64(w*w) * float64(s*s) * (1 + float64(c-1)/8) }
	rate := m.ImagesPerSecond * work(m.Width, m.ImageSize, max(m.Channels, 1)) / work(width, size, channels)
	return images / rate, true
}

func cmpOr(v, def int) int {
	if v != 0 {
		return v
	}
	return def
}
