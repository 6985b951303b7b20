package ui

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// PathTrain is the training dashboard: start a job on the server, watch it train, use
// its model.
const PathTrain = "/train"

// storeToken keeps the training token in this browser, so that it is asked once.
const storeToken = "ganomaly.token"

// trainConn is the state of the event stream of the job on show.
type trainConn string

const (
	trainConnConnecting   trainConn = "connecting"
	trainConnLive         trainConn = "live"
	trainConnReconnecting trainConn = "reconnecting"
	trainConnEnded        trainConn = "ended"
	trainConnFailed       trainConn = "failed"
)

// trainAvail says whether this page can train: only the ganomaly server trains, and
// only when it has somewhere to publish models.
type trainAvail string

const (
	trainChecking    trainAvail = "checking"
	trainReady       trainAvail = "ready"
	trainUnavailable trainAvail = "unavailable"
)

// trainPage is the training dashboard. Everything it shows comes from the jobs API:
// the limits and jobs from the list, a job's progress from its event stream (replayed
// whole when the page opens, so a job started elsewhere draws the same curves).
type trainPage struct {
	app.Compo

	online   bool
	avail    trainAvail
	availMsg string

	limits api.JobLimits
	jobs   []api.Job

	form       api.JobRequest
	formSet    bool
	token      string
	fieldErr   map[string]string // by the request's JSON field name, and "token"
	formMsg    string
	submitting bool
	notice     string

	trace      trainTrace
	conn       trainConn
	stopFollow func()
	// modelsReady names a published model once the picker's stored list has it.
	modelsReady string

	releases []func()
}

func (p *trainPage) OnMount(ctx app.Context) {
	if p.avail == "" {
		p.avail = trainChecking
	}
	if !app.IsClient {
		return
	}
	p.online = isOnline()
	ctx.LocalStorage().Get(storeToken, &p.token)
	p.refresh(ctx, true)
	p.releases = append(p.releases, watchOnline(func(online bool) {
		ctx.Dispatch(func(ctx app.Context) {
			p.online = online
			if online {
				p.refresh(ctx, p.trace.JobID == "")
			}
		})
	}))
}

func (p *trainPage) OnDismount() {
	if p.stopFollow != nil {
		p.stopFollow()
		p.stopFollow = nil
	}
	for _, r := range p.releases {
		r()
	}
	p.releases = nil
}

// refresh reads the job list and limits; pick follows the job most worth showing
// (the running or next one, else the newest).
func (p *trainPage) refresh(ctx app.Context, pick bool) {
	if app.Getenv(EnvStaticSite) == "1" {
		p.avail = trainUnavailable
		p.availMsg = "This is a static copy of the app, with no server behind it: training needs the ganomaly server (ganomaly serve, or make run from the repository). Scoring, the teaching view and training in this browser (Train here) work here, also offline."
		return
	}
	ctx.Async(func() {
		status, text, err := trainRequest("GET", api.JobsPath, "", nil)
		ctx.Dispatch(func(ctx app.Context) {
			var list api.JobList
			switch {
			case err != nil:
				p.avail = trainUnavailable
				p.availMsg = "Training needs the ganomaly server, and it cannot be reached (" + err.Error() + "). Scoring images keeps working on this device with the models it has."
				return
			case status != 200:
				p.avail = trainUnavailable
				p.availMsg = "This server does not train models: " + apiMessage(status, text)
				return
			case json.Unmarshal([]byte(text), &list) != nil:
				p.avail = trainUnavailable
				p.availMsg = "The server's job list is unreadable: is this the ganomaly server?"
				return
			}
			p.avail, p.availMsg = trainReady, ""
			p.limits, p.jobs = list.Limits, list.Jobs
			if !p.formSet {
				p.form, p.formSet = list.Limits.Defaults, true
			}
			if pick && p.trace.JobID == "" && len(list.Jobs) > 0 {
				show := list.Jobs[0]
				for _, j := range list.Jobs {
					if j.State == api.JobRunning || (j.State == api.JobQueued && show.State != api.JobRunning) {
						show = j
					}
				}
				p.follow(ctx, show.ID)
			}
		})
	})
}

// follow shows a job: its events from the first, then live.
func (p *trainPage) follow(ctx app.Context, id string) {
	if p.stopFollow != nil {
		p.stopFollow()
	}
	p.trace = trainTrace{JobID: id}
	p.conn = trainConnConnecting
	p.modelsReady = ""
	p.stopFollow = trainFollow(id, 0,
		func(ev api.JobEvent) { ctx.Dispatch(func(ctx app.Context) { p.onEvent(ctx, id, ev) }) },
		func(c trainConn) {
			ctx.Dispatch(func(ctx app.Context) {
				if p.trace.JobID == id {
					p.conn = c
				}
			})
		})
}

func (p *trainPage) onEvent(ctx app.Context, id string, ev api.JobEvent) {
	if p.trace.JobID != id || !p.trace.apply(ev) {
		return
	}
	if ev.Kind == api.EventState && ev.State == api.JobRunning {
		p.notice = "" // "job … is queued" is over
	}
	switch {
	case ev.Kind == api.EventEnd && ev.State == api.JobSucceeded && ev.Model != "":
		p.refresh(ctx, false)
		p.publishModels(ctx, ev.Model)
	case ev.Kind == api.EventState || ev.Kind == api.EventEnd:
		p.refresh(ctx, false)
	}
}

// publishModels stores the server's model list where the check page's model picker
// reads it at start, so that the new model is offered there at once, even before the
// picker asks the server again.
func (p *trainPage) publishModels(ctx app.Context, name string) {
	ctx.Async(func() {
		list, err := fetchModels()
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.notice = "The model is published, but the model list cannot be read: " + err.Error()
				return
			}
			for _, m := range list.Models {
				if m.Name == name {
					ctx.LocalStorage().Set(storeModels, list)
					if p.trace.Model == name {
						p.modelsReady = name
					}
					return
				}
			}
		})
	})
}

// scoreWith opens the check page with the model chosen.
func (p *trainPage) scoreWith(ctx app.Context, name string) {
	ctx.LocalStorage().Set(storeChoice, name)
	ctx.Navigate(PathCheck)
}

func (p *trainPage) onToken(ctx app.Context, e app.Event) {
	p.token = strings.TrimSpace(ctx.JSSrc().Get("value").String())
	ctx.LocalStorage().Set(storeToken, p.token)
	delete(p.fieldErr, "token")
}

// submit sends the form. The server checks it (the same rules as the command line's,
// and its limits) and says what is wrong with which field; the page shows that next
// to the field rather than guess the rules itself.
func (p *trainPage) submit(ctx app.Context) {
	p.fieldErr, p.formMsg, p.notice = map[string]string{}, "", ""
	if p.token == "" {
		p.fieldErr["token"] = "Paste the token that `ganomaly serve` printed when it started."
		return
	}
	p.submitting = true
	req, token := p.form, p.token
	ctx.Async(func() {
		status, text, err := trainRequest("POST", api.JobsPath, token, req)
		ctx.Dispatch(func(ctx app.Context) {
			p.submitting = false
			if err != nil {
				p.formMsg = err.Error()
				return
			}
			if status != 201 {
				field, msg := apiField(status, text)
				if status == 401 {
					field = "token"
				}
				if field != "" {
					// Beside its field, the message need not start with the field's name.
					p.fieldErr[field] = strings.TrimPrefix(msg, field+": ")
				} else {
					p.formMsg = msg
				}
				return
			}
			var j api.Job
			if json.Unmarshal([]byte(text), &j) != nil {
				p.formMsg = "The server's answer is unreadable."
				return
			}
			p.jobs = append([]api.Job{j}, p.jobs...)
			p.notice = "Job " + j.ID + " is " + string(j.State) + "."
			p.follow(ctx, j.ID)
		})
	})
}

// act cancels (DELETE) or resumes (POST …/resume) a job.
func (p *trainPage) act(ctx app.Context, method, path, id string) {
	if p.token == "" {
		p.notice = "Enter the token first: stopping or resuming a job needs it."
		return
	}
	token := p.token
	ctx.Async(func() {
		status, text, err := trainRequest(method, path, token, nil)
		ctx.Dispatch(func(ctx app.Context) {
			switch {
			case err != nil:
				p.notice = err.Error()
			case status >= 300:
				p.notice = apiMessage(status, text)
			default:
				p.notice = ""
				if method == "POST" { // resumed: its stream goes on with new events
					p.follow(ctx, id)
				}
			}
			p.refresh(ctx, false)
		})
	})
}

// apiField reads an api.Error: the field at fault, if any, and the message.
func apiField(status int, text string) (field, msg string) {
	var e api.Error
	if json.Unmarshal([]byte(text), &e) == nil && e.Message != "" {
		return e.Field, e.Message
	}
	return "", fmt.Sprintf("the server answered %d", status)
}

func apiMessage(status int, text string) string {
	_, msg := apiField(status, text)
	return msg
}

func (p *trainPage) Render() app.UI {
	avail := p.avail
	if avail == "" { // prerendered by the server, where OnMount does not run
		avail = trainChecking
	}
	return app.Div().Class("app").Body(
		&appHeader{Online: p.online},
		app.Main().Class("train").ID("train-page").DataSet("avail", string(avail)).Body(
			app.If(avail == trainUnavailable,
				app.Section().Class("train-unavailable").ID("train-unavailable").Role("status").Body(
					app.H2().Text("Training needs the server"),
					app.P().Text(p.availMsg),
					app.Div().Class("train-actions").Body(
						app.A().Class("button primary").ID("train-here-instead").Href(PathTrainHere).Text("Train in this browser instead"),
						app.A().Class("button").Href(PathCheck).Text("Score images"),
					),
				),
			).ElseIf(avail == trainChecking,
				app.P().Class("note").Text("Asking the server for its training jobs…"),
			).Else(
				p.renderForm(),
				p.renderLive(),
				p.renderJobs(),
			),
		),
		app.Footer().Class("footer").Body(
			app.Text("Training runs on the server (libtorch); trained models are published there and scored on this device."),
		),
	)
}
