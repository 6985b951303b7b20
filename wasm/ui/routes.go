package ui

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Paths of the app's pages. The server registers them through [Routes] as the client
// does; a page missing on either side answers 404 or renders nothing.
const (
	// PathCheck is the page that scores dropped images.
	PathCheck = "/"
	// Later pages go here, each in its own kebab-case file (PathTeach, the teaching
	// view, is in teach-page.go):
	//   "/train": the training dashboard of the native server.
)

// Routes registers every page with go-app. The server and the wasm client both call it.
func Routes() {
	app.Route(PathCheck, &checkPage{})
	app.Route(PathTeach, &teachPage{})
	app.Route(PathTrain, &trainPage{})    // train-page.go
	app.Route(PathTrainHere, &herePage{}) // here-page.go
}

// Files of the kernel worker under the server's /web/ folder (see wasm/worker and
// web/worker.js). The server lists them among the resources the service worker caches,
// so that scoring works offline.
const (
	WorkerScript = "/web/worker.js"
	WorkerWasm   = "/web/worker.wasm"
	// WorkerScalarWasm is the same program with the scalar kernels, for browsers
	// without WebAssembly SIMD (worker.js chooses).
	WorkerScalarWasm = "/web/worker-scalar.wasm"
	// PackURL is the MNIST sample the browser trains on (model/data's pack format, 1.4
	// MB), cached at install like the kernel worker, so that "Train here" works offline
	// after one visit.
	PackURL = "/web/data/mnist-pack.gz"
	// SamplesPath holds a few MNIST test digits as PNG files (see SampleURLs), so
	// that one can try the app without images of one's own, offline too.
	SamplesPath = "/web/samples/"
	// SamplesPerDigit is how many test digits of each class the app ships.
	SamplesPerDigit = 2
)

// Sample is one of the MNIST test digits the app ships.
type Sample struct {
	Digit int
	URL   string
}

// Samples lists the shipped digits: SamplesPerDigit of each class, in class order,
// at SamplesPath + "mnist-<digit>-<k>.png" (k from 1), the first test images of each
// class in the MNIST test file.
func Samples() []Sample {
	var out []Sample
	for d := range 10 {
		for k := 1; k <= SamplesPerDigit; k++ {
			out = append(out, Sample{Digit: d, URL: fmt.Sprintf("%smnist-%d-%d.png", SamplesPath, d, k)})
		}
	}
	return out
}

// Environment variables the server passes to the app (go-app's Handler.Env, read with
// app.Getenv): what the app must know before, or without, reaching the API.
const (
	// EnvDefaultModel is the JSON of the embedded default model's api.Model, so that
	// the app can score offline on a first visit's cached weights without the list.
	EnvDefaultModel = "GANOMALY_DEFAULT_MODEL"
	// EnvStaticSite is "1" in a static copy of the app (ganomaly site): there is no
	// server behind it, so the Train page says so instead of asking one.
	EnvStaticSite = "GANOMALY_STATIC_SITE"
)

// The server's own build version is deliberately not passed this way: it would make
// every deployment a new app version (the environment is part of app.js), even when
// nothing the browser runs has changed. The app reads it from the model list.

// WeightsCache prefixes the name of the Cache Storage cache where the app keeps the
// weights of the models it used. The service worker (server/internal/webapp) deletes old app
// caches at each update but keeps caches with this prefix: a model fetched once stays
// usable offline across app versions.
const WeightsCache = "ganomaly-weights"

// MaxWorkers caps the kernel workers of a batch: beyond 4 the weights' copies (one per
// worker) cost more memory than the extra parallelism gains on common machines.
const MaxWorkers = 4
