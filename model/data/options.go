package data

import (
	"errors"
	"fmt"
	"io/fs"
	"math"

	"github.com/ganomaly-go/ganomaly-go/model"
)

// Data set names for Options.Dataset.
const (
	MNIST        = "mnist"
	FashionMNIST = "fashion-mnist"
	Folder       = "folder"
)

const (
	// DefaultSize is the official isize.
	DefaultSize = 32
	// DefaultValidationFraction is the share of train normals held out for validation
	// when Options.ValidationFraction is 0.
	DefaultValidationFraction = 0.1
	// NoValidation, as Options.ValidationFraction, keeps every train normal for
	// training, as the official code does.
	NoValidation = -1
	// maxSize bounds Options.Size; far beyond what GANomaly is trained at.
	maxSize = 1024
)

// FashionMNISTClasses are the Fashion-MNIST class names by label.
var FashionMNISTClasses = [10]string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// ClassName returns the name of class k of an idx data set: the digit for MNIST, the
// garment for Fashion-MNIST.
func ClassName(dataset string, k int) string {
	if dataset == FashionMNIST && k >= 0 && k < len(FashionMNISTClasses) {
		return FashionMNISTClasses[k]
	}
	return fmt.Sprint(k)
}

// ClassIndex is the label of the class that [ClassName] calls name ("3", "Sandal").
func ClassIndex(dataset, name string) (int, error) {
	for k := range 10 {
		if ClassName(dataset, k) == name {
			return k, nil
		}
	}
	return 0, fmt.Errorf("anomaly class %q is not a class of %s", name, dataset)
}

// Options chooses a data set and how it is split. The zero value of every field but
// Dataset (and Dir for a folder) is a sensible default.
type Options struct {
	// Dataset is "mnist", "fashion-mnist" or "folder".
	Dataset string
	// Dir is the folder holding the data. Optional for the idx data sets (see
	// MNISTDir and FashionMNISTDir); the root of the official layout for "folder".
	Dir string
	// AnomalyClass is the class held out as the anomaly, 0 to 9, for the idx data sets;
	// a folder names its anomalies by layout and ignores it.
	AnomalyClass int
	// Size is the side of the square images, 32 when 0.
	Size int
	// Channels is 1 (grey) or 3 (RGB); 0 means 1 for the idx data sets and 3 for a
	// folder. Grey images become RGB by repeating the channel.
	Channels int
	// Seed drives every random choice. Seed >= 0 pools and reshuffles the normals as
	// the official experiments do; a negative Seed keeps the original train/test files
	// apart (the official code without a seed).
	Seed int64
	// ValidationFraction is the share of train normals moved to the validation split:
	// 0.1 when 0, none when negative (NoValidation). It must be below 1.
	ValidationFraction float64
	// MaxTrain caps the train normals (before the validation split is taken from
	// them) and MaxTest the test set, which keeps the share of anomalies and at least
	// one image of each label. 0 means all.
	MaxTrain, MaxTest int
	// WatchFraction is the share of the known anomalies moved out of the test split
	// into Split.Watch: labelled images to watch training by (how the validation
	// scores of normal images and of these anomalies separate, epoch by epoch). They
	// never select or calibrate the model, and the test set stays untouched until the
	// end. 0 (the default) keeps every anomaly for the test; it must be below 1, and
	// it takes none from fewer than 5 anomalies, and at most MaxWatch.
	WatchFraction float64 `json:",omitempty"`
	// Pack, when set, is the data of an idx data set as a pack (see [WritePack]), read
	// instead of the files: how the browser trains on MNIST. It is not saved with the
	// options.
	Pack []byte `json:"-"`
	// Files, when set, is the folder data set's root (instead of Dir): how the browser
	// trains on images dropped into it. It is not saved with the options.
	Files fs.FS `json:"-"`
}

// withDefaults returns o with its zero fields filled in.
func (o Options) withDefaults() Options {
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if o.Channels == 0 {
		o.Channels = 1
		if o.Dataset == Folder {
			o.Channels = 3
		}
	}
	switch {
	case o.ValidationFraction == 0:
		o.ValidationFraction = DefaultValidationFraction
	case o.ValidationFraction < 0:
		o.ValidationFraction = 0
	}
	return o
}

// Validate reports every option that is out of range, before anything is read.
func (o Options) Validate() error {
	var errs []error
	bad := func(setting, format string, args ...any) error {
		return &model.Invalid{Setting: setting, Reason: fmt.Sprintf(format, args...)}
	}
	switch o.Dataset {
	case MNIST, FashionMNIST:
		if o.AnomalyClass < 0 || o.AnomalyClass > 9 {
			errs = append(errs, bad("anomaly_class", "anomaly class %d is not a class of %s: use 0 to 9", o.AnomalyClass, o.Dataset))
		}
	case Folder:
		if o.Dir == "" && o.Files == nil {
			errs = append(errs, bad("dir", `the "folder" data set needs Dir, the root holding train/0.normal, test/0.normal and test/1.abnormal`))
		}
	case "":
		errs = append(errs, bad("dataset", "no data set chosen: use %q, %q or %q", MNIST, FashionMNIST, Folder))
	default:
		errs = append(errs, bad("dataset", "unknown data set %q: use %q, %q or %q", o.Dataset, MNIST, FashionMNIST, Folder))
	}
	if o.Size < 0 || o.Size > maxSize {
		errs = append(errs, bad("size", "image size %d is out of range: use 1 to %d (0 for %d)", o.Size, maxSize, DefaultSize))
	}
	if o.Channels != 0 && o.Channels != 1 && o.Channels != 3 {
		errs = append(errs, bad("channels", "%d channels: use 1 (grey) or 3 (RGB)", o.Channels))
	}
	if math.IsNaN(o.ValidationFraction) || o.ValidationFraction >= 1 {
		errs = append(errs, bad("validation_fraction", "validation fraction %v: use a value below 1 (0 for %v, negative for none)", o.ValidationFraction, DefaultValidationFraction))
	}
	if !(o.WatchFraction >= 0 && o.WatchFraction < 1) {
		errs = append(errs, bad("watch_fraction", "watch fraction %v: use a share of the anomalies in [0, 1) (0 keeps them all for the test)", o.WatchFraction))
	}
	if o.MaxTrain < 0 {
		errs = append(errs, bad("max_train", "MaxTrain %d is negative: use 0 for all", o.MaxTrain))
	}
	if o.MaxTest < 0 || o.MaxTest == 1 {
		errs = append(errs, bad("max_test", "MaxTest %d: use 0 for all, or at least 2 so that both labels remain", o.MaxTest))
	}
	if len(errs) > 0 {
		return fmt.Errorf("data: invalid options: %w", errors.Join(errs...))
	}
	return nil
}
