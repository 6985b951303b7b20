package ui

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// PathTrainHere is training in this browser: no server, works offline.
const PathTrainHere = "/train/here"

// hereMsg is one message of the leader.
type hereMsg struct {
	kind      string // "note" (err says what a starting run does), "started", "event", "checkpoint", "done", "failed"
	event     api.JobEvent
	weights   []byte
	card      []byte
	name      string
	err       string
	cancelled bool
}

// Where an unfinished training is kept, so that a reload can resume it: its
// checkpoint in Cache Storage, its request in localStorage.
const (
	hereCheckpointURL = "/web/data/here-checkpoint"
	storeHereRequest  = "ganomaly.here.request"
)

// Inputs of the page from which a training on the user's own images reads them.
const (
	hereNormalInput    = "here-normal"
	hereAnomalousInput = "here-anomalous"
)

// hereState is where a training in this browser stands.
type hereState string

const (
	hereIdle      hereState = "idle"
	herePreparing hereState = "preparing"
	hereRunning   hereState = "running"
	herePaused    hereState = "paused"
	hereDone      hereState = "done"
	hereFailed    hereState = "failed"
	hereCancelled hereState = "cancelled"
)

func (s hereState) active() bool { return s == herePreparing || s == hereRunning || s == herePaused }

// MaxTrainWorkers caps the workers of a training: each holds G and D and their
// gradients; beyond 4 the exchange of gradients costs more than the cores gain.
const MaxTrainWorkers = 4

// herePage trains GANomaly on MNIST digits in Web Workers, with the trainer and the
// protocol of the server (model/train), and keeps the model on this device, in the
// model picker.
type herePage struct {
	app.Compo

	online     bool
	source     string // "mnist" or "images" (the user's own)
	req        api.JobRequest
	workers    int
	maxWorkers int

	state     hereState
	trace     trainTrace
	errMsg    string
	note      string // what a starting run is doing
	dataNote  string // what the run said of its data (its split, and files it skipped)
	resumable bool
	run       *hereRun
	model     api.Model
	weights   []byte
	card      []byte
	started   time.Time
	// mounted is the context of the component: a run's updates go through it, not
	// through a click's, whose element (a button that goes away) would drop them.
	mounted app.Context
	// The first and the last step event seen, for the run's mean throughput.
	firstStep, lastStep api.JobEvent
	// token publishes the finished model on the server (the Train page's, kept in
	// this browser); published says where it went, publishErr why it did not.
	token                 string
	publishing            bool
	published, publishErr string
}

// meanRate is the run's training throughput in images per second, between its first
// and last step events (validation and test passes are not steps).
func (p *herePage) meanRate() float64 {
	dt := p.lastStep.Time.Sub(p.firstStep.Time).Seconds()
	if dt <= 0 || p.lastStep.Iteration <= p.firstStep.Iteration {
		return 0
	}
	batch := p.req.BatchSize
	if batch == 0 {
		batch = api.BrowserLimits.Defaults.BatchSize
	}
	return float64((p.lastStep.Iteration-p.firstStep.Iteration)*batch) / dt
}

func (p *herePage) OnMount(ctx app.Context) {
	if p.state == "" {
		p.state = hereIdle
	}
	if !app.IsClient {
		return
	}
	p.mounted = ctx
	p.online = isOnline()
	ctx.LocalStorage().Get(storeToken, &p.token) // the Train page's, when it has one
	p.maxWorkers = max(1, min(hardwareConcurrency(), MaxTrainWorkers))
	p.workers = p.maxWorkers
	p.req = api.BrowserLimits.Defaults
	p.source = "mnist"
	p.applyQuery(ctx.Page().URL().Query())
	var stored api.JobRequest
	ctx.LocalStorage().Get(storeHereRequest, &stored)
	ctx.Async(func() {
		ok := stored.Dataset != "" && hasCached(hereCheckpointURL)
		ctx.Dispatch(func(app.Context) { p.resumable = ok && !p.state.active() })
	})
}

// applyQuery takes settings from the address (?class=3&epochs=1&width=8&size=16&
// workers=2&max_train=600&max_test=400&batch=32), so that a link, or a test, can set
// up a run.
func (p *herePage) applyQuery(q url.Values) {
	for key, dst := range map[string]*int{
		"class": &p.req.AnomalyClass, "epochs": &p.req.Epochs, "width": &p.req.Width, "size": &p.req.ImageSize,
		"max_train": &p.req.MaxTrain, "max_test": &p.req.MaxTest, "batch": &p.req.BatchSize, "workers": &p.workers,
	} {
		if v, err := strconv.Atoi(q.Get(key)); err == nil {
			*dst = v
		}
	}
	p.workers = max(1, min(p.workers, MaxTrainWorkers))
	if q.Get("source") == "images" {
		p.source = "images"
	}
}

// OnDismount ends the workers: leaving the page is closing the tab for a training,
// which loses at most the epoch under way; back on the page, it offers to resume from
// the checkpoint of the last finished one.
func (p *herePage) OnDismount() {
	if p.run != nil {
		p.run.stop()
		p.run = nil
	}
	if p.state.active() {
		p.state, p.note, p.dataNote, p.trace = hereIdle, "", "", trainTrace{}
	}
}

// start launches a run; resume continues the stored one.
func (p *herePage) start(ctx app.Context, resume bool) {
	if p.state.active() {
		return
	}
	if p.mounted != nil {
		ctx = p.mounted
	}
	if resume {
		ctx.LocalStorage().Get(storeHereRequest, &p.req)
		if p.req.Dataset == "folder" { // stored as run: the form's source comes back
			p.source, p.req.Dataset = "images", api.BrowserLimits.Defaults.Dataset
		}
	} else {
		deleteCached(hereCheckpointURL)
	}
	p.state, p.errMsg, p.trace, p.resumable = herePreparing, "", trainTrace{JobID: "here"}, false
	p.model, p.weights, p.card, p.started = api.Model{}, nil, nil, time.Now()
	p.published, p.publishErr = "", ""
	p.firstStep, p.lastStep, p.dataNote = api.JobEvent{}, api.JobEvent{}, ""
	name := fmt.Sprintf("here-mnist-%d-%s", p.req.AnomalyClass, time.Now().Format("20060102-150405"))
	req, workers := p.req, p.workers
	if p.source == "images" {
		req.Dataset, req.MaxTrain, req.MaxTest = "folder", 0, 0
		name = "here-images-" + time.Now().Format("20060102-150405")
	} else {
		req.Channels = 1
	}
	ctx.LocalStorage().Set(storeHereRequest, req) // as run, so that a resume runs it again
	ctx.Async(func() {
		run, err := startHere(req, workers, name, resume, func(m hereMsg) {
			ctx.Dispatch(func(ctx app.Context) { p.onMsg(ctx, m) })
		})
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.state, p.errMsg = hereFailed, err.Error()
				return
			}
			p.run = run
		})
	})
}

func (p *herePage) onMsg(ctx app.Context, m hereMsg) {
	switch m.kind {
	case "note":
		p.note = m.err
	case "started":
		if p.state == herePreparing {
			p.state = hereRunning
		}
	case "event":
		p.trace.apply(m.event)
		if m.event.Kind == api.EventStart {
			p.dataNote = m.event.Message
		}
		if m.event.Kind == api.EventStep {
			if p.firstStep.Iteration == 0 {
				p.firstStep = m.event
			}
			p.lastStep = m.event
		}
	case "done":
		p.weights, p.card = m.weights, m.card
		if p.run != nil {
			p.run.stop()
		}
		ctx.Async(func() {
			model, err := keepModel(m.name, m.weights, m.card)
			ctx.Dispatch(func(ctx app.Context) {
				if err != nil {
					p.state, p.errMsg = hereFailed, "the model is trained but cannot be kept on this device: "+err.Error()+" (download it below)"
					return
				}
				p.model, p.state = model, hereDone
				addLocalModel(ctx.LocalStorage(), model)
				ctx.LocalStorage().Del(storeHereRequest)
				deleteCached(hereCheckpointURL)
				forgetImages()
			})
		})
	case "failed":
		if p.run != nil {
			p.run.stop()
		}
		p.state, p.errMsg = hereFailed, m.err
		if m.cancelled {
			p.state, p.errMsg = hereCancelled, "Cancelled."
		}
		p.resumable = len(p.trace.Epochs) > 0
	}
}

func (p *herePage) control(ctx app.Context, action string) {
	if p.run == nil {
		return
	}
	if err := p.run.control(action); err != nil {
		p.errMsg = err.Error()
		return
	}
	switch action {
	case "pause":
		p.state = herePaused
	case "resume":
		p.state = hereRunning
	}
}

func (p *herePage) Render() app.UI {
	state := p.state
	if state == "" {
		state = hereIdle
	}
	t := &p.trace
	pr := t.Progress
	frac := pr.Fraction()
	if state == hereDone {
		frac = 1
	}
	return app.Div().Class("app").Body(
		&appHeader{Online: p.online},
		app.Main().Class("train here").ID("here-page").DataSet("state", string(state)).DataSet("client", p.maxWorkers > 0).DataSet("note", p.note).
			DataSet("images-per-second", fmt.Sprintf("%.1f", p.meanRate())).
			DataSet("points", len(t.Steps)).DataSet("epochs", len(t.Epochs)).DataSet("model", p.model.Name).Body(
			app.Section().Class("here-intro").Body(
				app.H1().Text("Train in this browser"),
				app.P().Text("GANomaly learns what normal MNIST digits look like, with one digit held out as the anomaly, right here: "+
					"on this device's cores, in Web Workers, with no server and also offline. It is the trainer and the protocol of the server "+
					"(model selection and calibration on validation normals, the test set scored once), and the model lands in the model picker."),
			),
			p.renderForm(state),
			app.If(state != hereIdle, app.Section().Class("train-live state-"+string(state)).ID("train-live").Body(
				app.Div().Class("train-live-head").Body(
					app.If(p.source == "images", app.H2().Text("Your images")).Else(app.H2().Textf("Digit %d held out", p.req.AnomalyClass)),
					app.Span().Class("train-state "+string(state)).ID("train-state").Text(hereStateLabel[state]),
				),
				progressBar(frac),
				progressFigures(pr, !state.active()),
				app.If(state == herePreparing && p.note != "", app.P().Class("note").ID("here-note").Text(p.note)),
				app.If(p.dataNote != "", app.P().Class("note").ID("here-data").Text(p.dataNote)),
				lossCharts(t),
				samplesStrip(t),
				watchCharts(t),
				app.If(len(t.Epochs) > 0, epochsTable(t.Epochs)),
				app.If(p.errMsg != "", app.P().Class("train-error").ID("train-error").Text(p.errMsg)),
				app.If(state == hereDone, p.renderDone()),
				app.Div().Class("train-live-actions").Body(
					app.If(state == hereRunning, app.Button().Class("button").ID("pause-training").Text("Pause").
						OnClick(func(ctx app.Context, e app.Event) { p.control(ctx, "pause") })),
					app.If(state == herePaused, app.Button().Class("button primary").ID("resume-training").Text("Resume").
						OnClick(func(ctx app.Context, e app.Event) { p.control(ctx, "resume") })),
					app.If(state.active(), app.Button().Class("button").ID("cancel-training").Text("Cancel").
						OnClick(func(ctx app.Context, e app.Event) { p.control(ctx, "cancel") })),
				),
			)),
		),
		app.Footer().Class("footer").Body(
			app.Text("Training runs in this browser's Web Workers (pure Go compiled to WebAssembly); the digits come with the app and stay on this device."),
		),
	)
}

var hereStateLabel = map[hereState]string{
	hereIdle: "ready", herePreparing: "starting the workers…", hereRunning: "training", herePaused: "paused",
	hereDone: "done", hereFailed: "failed", hereCancelled: "cancelled",
}

func (p *herePage) renderForm(state hereState) app.UI {
	classes := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	busy := state.active()
	return app.Section().Class("train-form here-form").ID("here-form").Body(
		app.H2().Text("Train a model"),
		app.Div().Class("train-fields").Body(
			hereField("here-source", "Train on", app.Select().ID("here-source").Disabled(busy).Body(
				app.Option().Value("mnist").Selected(p.source == "mnist").Text("MNIST digits (come with the app)"),
				app.Option().Value("images").Selected(p.source == "images").Text("your own images"),
			).OnChange(func(ctx app.Context, e app.Event) { p.source = ctx.JSSrc().Get("value").String() }), ""),
		),
		app.If(p.source == "images", p.renderOwnImages(busy)),
		app.Div().Class("train-fields").Body(
			app.If(p.source != "images", hereField("here-class", "Digit held out as the anomaly",
				app.Select().ID("here-class").Disabled(busy).Body(app.Range(classes).Slice(func(i int) app.UI {
					return app.Option().Value(classes[i]).Selected(classes[i] == p.req.AnomalyClass).Text(classes[i])
				})).OnChange(func(ctx app.Context, e app.Event) {
					p.req.AnomalyClass, _ = strconv.Atoi(ctx.JSSrc().Get("value").String())
				}), "2 is the default model's; 1 and 9 are hard for a short run")),
			hereField("here-epochs", "Epochs", app.Input().ID("here-epochs").Type("number").Min(1).Max(api.BrowserLimits.MaxEpochs).
				Value(p.req.Epochs).Disabled(busy).OnChange(func(ctx app.Context, e app.Event) {
				p.req.Epochs, _ = strconv.Atoi(ctx.JSSrc().Get("value").String())
			}), p.epochsHint()),
			hereField("here-width", "Width", app.Select().ID("here-width").Disabled(busy).Body(
				app.Range([]int{8, 16, 32}).Slice(func(i int) app.UI {
					w := []int{8, 16, 32}[i]
					return app.Option().Value(w).Selected(w == p.req.Width).Text(w)
				})).OnChange(func(ctx app.Context, e app.Event) {
				p.req.Width, _ = strconv.Atoi(ctx.JSSrc().Get("value").String())
			}), "feature width of the first layer (the default model's is 16)"),
			hereField("here-workers", "Workers", app.Input().ID("here-workers").Type("number").Min(1).Max(MaxTrainWorkers).
				Value(p.workers).Disabled(busy).OnChange(func(ctx app.Context, e app.Event) {
				n, _ := strconv.Atoi(ctx.JSSrc().Get("value").String())
				p.workers = max(1, min(n, MaxTrainWorkers))
			}), fmt.Sprintf("this device has %d cores", max(p.maxWorkers, hardwareConcurrency()))),
		),
		app.Div().Class("train-actions").Body(
			app.Button().Class("button primary").ID("start-training").Disabled(busy).Text("Train here").
				OnClick(func(ctx app.Context, e app.Event) { p.start(ctx, false) }),
			app.If(p.resumable && !busy, app.Button().Class("button").ID("resume-stored").Text("Resume the last training").
				OnClick(func(ctx app.Context, e app.Event) { p.start(ctx, true) })),
			app.A().Class("button link").Href(PathTrain).Text("Train on the server instead"),
		),
	)
}

func (p *herePage) epochsHint() string {
	if p.source == "images" {
		return "passes over your normal images"
	}
	return fmt.Sprintf("passes over %d normal digits", p.req.MaxTrain*9/10)
}

// renderOwnImages asks for the user's images: normal ones (the more the better) and,
// optionally, known anomalies (for a test), with the size and colour to train at.
func (p *herePage) renderOwnImages(busy bool) app.UI {
	intSelect := func(id string, v *int, choices []int, label func(int) string) app.UI {
		return app.Select().ID(id).Disabled(busy).Body(app.Range(choices).Slice(func(i int) app.UI {
			return app.Option().Value(choices[i]).Selected(choices[i] == *v).Text(label(choices[i]))
		})).OnChange(func(ctx app.Context, e app.Event) { *v, _ = strconv.Atoi(ctx.JSSrc().Get("value").String()) })
	}
	if p.req.Channels == 0 {
		p.req.Channels = 1
	}
	return app.Div().Class("train-fields here-images").Body(
		hereField(hereNormalInput, "Normal images", dropInput(hereNormalInput, busy),
			"pick or drop the images of what is normal (a few hundred or more); with known anomalies, a fifth are kept for the test"),
		hereField(hereAnomalousInput, "Known anomalies (optional)", dropInput(hereAnomalousInput, busy),
			"a few images of what it should flag: they make a test and give an AUC; without them the model is calibrated on your normal images alone"),
		hereField("here-size", "Image size", intSelect("here-size", &p.req.ImageSize, api.BrowserLimits.ImageSizes,
			func(s int) string { return fmt.Sprintf("%d×%d", s, s) }), "every image is resized to it, whatever its size"),
		hereField("here-channels", "Colour", intSelect("here-channels", &p.req.Channels, []int{1, 3},
			func(c int) string { return map[int]string{1: "grey", 3: "colour"}[c] }), "every image is converted to it"),
	)
}

// dropInput is a file input for many images that also takes files dropped on it: the
// drop hands its files to the input, where the training reads them.
func dropInput(id string, busy bool) app.UI {
	return app.Div().Class("here-drop").ID(id+"-zone").Body(
		app.Input().ID(id).Type("file").Multiple(true).Accept("image/png,image/jpeg,image/gif,image/webp").Disabled(busy),
	).On("dragover", func(ctx app.Context, e app.Event) { e.PreventDefault() }).
		On("drop", func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			if busy {
				return
			}
			files := e.Get("dataTransfer").Get("files")
			if in := app.Window().GetElementByID(id); in.Truthy() && files.Truthy() {
				in.Set("files", files)
			}
		})
}

func hereField(id, label string, input app.UI, hint string) app.UI {
	return app.Div().Class("train-field").Body(
		app.Label().For(id).Text(label),
		input,
		app.Small().Class("hint").Text(hint),
	)
}

func (p *herePage) renderDone() app.UI {
	m := p.model
	return app.Div().Class("train-published").ID("here-done").DataSet("model", m.Name).Body(
		app.If(m.AUC > 0 && m.AUC < 0.5, app.P().Class("note").ID("here-undertrained").Text(
			"Its test AUC is below chance: early in training GANomaly often scores the held-out digit lower than the others. Three epochs or more usually turn it round (0.88 to 0.93 for digit 2).")),
		app.P().Body(
			app.Text("Kept on this device as "), app.Code().ID("here-model").Text(m.Name),
			app.If(m.AUC > 0, app.Textf(" (test AUC %.3f)", m.AUC)).ElseIf(p.source == "images", app.Text(" (no known anomalies, so no test: calibrated on your normal images)")),
			app.Textf(", in %s (%.0f training images/s): it is in the model picker and works offline.", time.Since(p.started).Round(time.Second), p.meanRate()),
		),
		app.Div().Class("train-actions").Body(
			app.Button().Class("button primary").ID("score-with-model").Text("Score images with it").
				OnClick(func(ctx app.Context, e app.Event) {
					ctx.LocalStorage().Set(storeChoice, m.Name)
					ctx.Navigate(PathCheck)
				}),
			app.Button().Class("button").ID("download-weights").Text("Download the weights").
				OnClick(func(ctx app.Context, e app.Event) {
					download(m.Name+".safetensors", "application/octet-stream", p.weights)
				}),
			app.Button().Class("button").ID("download-card").Text("Download the model card").
				OnClick(func(ctx app.Context, e app.Event) { download(m.Name+".json", "application/json", p.card) }),
		),
		p.renderPublish(),
	)
}

// renderPublish offers to publish the finished model in the server's models folder,
// with the server's token, where a server is (not in a static copy of the app).
func (p *herePage) renderPublish() app.UI {
	if app.Getenv(EnvStaticSite) == "1" {
		return app.Text("")
	}
	if p.published != "" {
		return app.P().Class("note").ID("here-published").Body(
			app.Text("Published on the server as "), app.Code().Text(p.published),
			app.Text(": everyone who opens this server can pick it."))
	}
	return app.Div().Class("here-publish").ID("here-publish").Body(
		app.Label().For("publish-token").Text("Publish on this server"),
		app.Input().ID("publish-token").Type("password").Placeholder("the token ganomaly serve printed").
			Value(p.token).Disabled(p.publishing).AutoComplete(false).
			OnChange(func(ctx app.Context, e app.Event) {
				p.token = strings.TrimSpace(ctx.JSSrc().Get("value").String())
				ctx.LocalStorage().Set(storeToken, p.token)
			}),
		app.Button().Class("button").ID("publish-model").Text("Publish").Disabled(p.publishing || !p.online).
			OnClick(p.onPublish),
		app.If(!p.online, app.Small().Class("hint").Text("Connect to the server to publish.")),
		app.If(p.publishErr != "", app.P().Class("error").ID("publish-error").Text(p.publishErr)),
	)
}

func (p *herePage) onPublish(ctx app.Context, e app.Event) {
	if p.token == "" {
		p.publishErr = "Paste the token that `ganomaly serve` printed when it started."
		return
	}
	name, weights, card, token := p.model.Name, p.weights, p.card, p.token
	p.publishing, p.publishErr = true, ""
	mounted := p.mounted
	ctx.Async(func() {
		m, err := publishModel(name, weights, card, token)
		mounted.Dispatch(func(ctx app.Context) {
			p.publishing = false
			if err != nil {
				p.publishErr = "Not published: " + err.Error()
				return
			}
			p.published = m.Name
		})
	})
}
