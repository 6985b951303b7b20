package jobs

import (
	"strconv"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/train"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

// Server limits: far below what train.Options allows, because a server's jobs share
// one device with everyone else's, and a browser must be able to run the model.
const (
	MaxEpochs    = 50
	MaxImageSize = 64
	MaxWidth     = 64
	MaxBatchSize = 256
	// MaxTrain is the train split of MNIST and Fashion-MNIST: no cap is a larger one.
	MaxTrain  = 60000
	MaxQueued = 16
)

// Defaults of a job on a CPU: the official width 64 and 15 epochs take about three
// hours on two cores, far too long for someone who opened the Train page to try it.
// Width 16 for 3 epochs trains in about six minutes there and detects well (the
// embedded default model is width 16, 4 epochs, test AUC 0.93). A GPU gets the
// official settings.
const (
	CPUDefaultWidth  = 16
	CPUDefaultEpochs = 3
)

// DefaultLimits are the limits and defaults of a server's jobs trained by engine on
// device.
func DefaultLimits(engine, device string) api.JobLimits {
	def := train.DefaultOptions()
	deviceName, cpu := train.DescribeDevice(engine, device)
	if cpu {
		def.Config.Width, def.Epochs = CPUDefaultWidth, CPUDefaultEpochs
	}
	var sizes []int
	for s := 16; s <= MaxImageSize; s *= 2 { // model.Config's rule: 16·2^k
		sizes = append(sizes, s)
	}
	return api.JobLimits{
		Datasets:     []string{data.MNIST, data.FashionMNIST},
		Protocols:    []string{train.Honest, train.Paper},
		ImageSizes:   sizes,
		MaxEpochs:    MaxEpochs,
		MaxImageSize: MaxImageSize,
		MaxWidth:     MaxWidth,
		MaxBatchSize: MaxBatchSize,
		MaxTrain:     MaxTrain,
		MaxQueued:    MaxQueued,
		Defaults: api.JobRequest{
			Dataset: def.Data.Dataset, AnomalyClass: defaultModelClass(def.Data.AnomalyClass), Epochs: def.Epochs,
			ImageSize: def.Config.ImageSize, Protocol: def.Protocol, Width: def.Config.Width, BatchSize: def.BatchSize,
		},
		Device:     device,
		DeviceName: deviceName,
	}
}

// defaultModelClass is the anomaly class the embedded default model holds out, so
// that a first job trained with the form's defaults can be set beside it; fallback
// when its provenance names none.
func defaultModelClass(fallback int) int {
	raw, _ := weights.Default()
	f, err := model.ReadWeights(raw)
	if err != nil || f.Provenance.Dataset != data.MNIST {
		return fallback
	}
	k, err := strconv.Atoi(f.Provenance.AnomalyClass)
	if err != nil {
		return fallback
	}
	return k
}
