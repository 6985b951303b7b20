package data

import (
	"math"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := []Options{
		{Dataset: MNIST},
		{Dataset: FashionMNIST, AnomalyClass: 9, Size: 64, Channels: 3, Seed: -1, ValidationFraction: NoValidation},
		{Dataset: Folder, Dir: "/x", MaxTrain: 10, MaxTest: 2},
	}
	for _, o := range good {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	bad := []struct {
		o    Options
		want string
	}{
		{Options{}, "no data set chosen"},
		{Options{Dataset: "cifar10"}, `unknown data set "cifar10"`},
		{Options{Dataset: MNIST, AnomalyClass: 10}, "anomaly class 10"},
		{Options{Dataset: FashionMNIST, AnomalyClass: -1}, "anomaly class -1"},
		{Options{Dataset: Folder}, "needs Dir"},
		{Options{Dataset: MNIST, Size: -3}, "image size -3"},
		{Options{Dataset: MNIST, Size: 5000}, "image size 5000"},
		{Options{Dataset: MNIST, Channels: 2}, "2 channels"},
		{Options{Dataset: MNIST, ValidationFraction: 1}, "validation fraction 1"},
		{Options{Dataset: MNIST, ValidationFraction: math.NaN()}, "validation fraction NaN"},
		{Options{Dataset: MNIST, MaxTrain: -1}, "MaxTrain -1"},
		{Options{Dataset: MNIST, MaxTest: 1}, "MaxTest 1"},
	}
	for _, c := range bad {
		err := c.o.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want an error with %q", c.o, err, c.want)
		}
		if _, lerr := Load(c.o); lerr == nil || lerr.Error() != err.Error() {
			t.Errorf("Load(%+v) = %v, want the Validate error", c.o, lerr)
		}
	}
	// Several problems are reported together.
	err := Options{Dataset: MNIST, AnomalyClass: 11, Channels: 4}.Validate()
	if err == nil || !strings.Contains(err.Error(), "anomaly class 11") || !strings.Contains(err.Error(), "4 channels") {
		t.Errorf("two problems: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	o := Options{Dataset: MNIST}.withDefaults()
	if o.Size != 32 || o.Channels != 1 || o.ValidationFraction != 0.1 {
		t.Errorf("mnist defaults: %+v", o)
	}
	o = Options{Dataset: Folder, ValidationFraction: NoValidation}.withDefaults()
	if o.Channels != 3 || o.ValidationFraction != 0 {
		t.Errorf("folder defaults: %+v", o)
	}
	if ClassName(FashionMNIST, 0) != "T-shirt/top" || ClassName(FashionMNIST, 9) != "Ankle boot" || ClassName(MNIST, 3) != "3" {
		t.Error("class names")
	}
}
