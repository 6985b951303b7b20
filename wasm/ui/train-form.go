package ui

import (
	"cmp"
	"fmt"
	"strconv"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// renderForm is the new job's form. Its inputs carry the server's limits (min, max,
// the choices) for the browser's spinners and menus, but the form does not validate:
// the server does, by the command line's rules, and its reason is shown next to the
// field at fault.
func (p *trainPage) renderForm() app.UI {
	l := p.limits
	f := &p.form
	classes := make([]int, 10)
	for i := range classes {
		classes[i] = i
	}
	return app.Form().Class("train-form").ID("train-form").NoValidate(true).
		OnSubmit(func(ctx app.Context, e app.Event) {
			e.PreventDefault()
			p.submit(ctx)
		}).Body(
		app.H2().Text("Train a model"),
		app.P().Class("note").ID("train-device").Textf("Trained on the server (%s), one job at a time; others wait in line. Limits: up to %d epochs, images up to %d×%d, width up to %d.",
			cmp.Or(l.DeviceName, l.Device), l.MaxEpochs, l.MaxImageSize, l.MaxImageSize, l.MaxWidth),
		app.Div().Class("train-fields").Body(
			p.field("dataset", "Data set", p.stringSelect("dataset", &f.Dataset, l.Datasets), ""),
			p.field("anomaly_class", "Anomaly class", p.intSelect("anomaly_class", &f.AnomalyClass, classes), "held out of training: what it should flag"),
			p.field("epochs", "Epochs", p.intInput("epochs", &f.Epochs, 1, l.MaxEpochs), fmt.Sprintf("1 to %d", l.MaxEpochs)),
			p.field("image_size", "Image size", p.intSelect("image_size", &f.ImageSize, l.ImageSizes), "pixels a side"),
			p.field("protocol", "Protocol", p.stringSelect("protocol", &f.Protocol, l.Protocols), "honest: selected on validation normals; paper: on the test set, as the official code"),
		),
		app.Details().Class("train-advanced").ID("train-advanced").Body(
			app.Summary().Text("Smaller and faster jobs"),
			app.Div().Class("train-fields").Body(
				p.field("width", "Width", p.intInput("width", &f.Width, 2, l.MaxWidth), fmt.Sprintf("features of the first layer, up to %d", l.MaxWidth)),
				p.field("batch_size", "Batch size", p.intInput("batch_size", &f.BatchSize, 2, l.MaxBatchSize), ""),
				p.field("max_train", "Train images", p.intInput("max_train", &f.MaxTrain, 0, l.MaxTrain), "0: all normal images"),
				p.field("max_test", "Test images", p.intInput("max_test", &f.MaxTest, 0, 0), "0: all"),
				p.field("max_iterations", "Max steps", p.intInput("max_iterations", &f.MaxIterations, 0, 0), "0: no cap"),
				p.field("seed", "Seed", app.Input().Type("number").ID("job-seed").Value(f.Seed).OnChange(p.ValueTo(&f.Seed)), ""),
			),
		),
		p.field("token", "Token", app.Input().Type("password").ID("job-token").AutoComplete(false).
			Value(p.token).OnChange(p.onToken), "printed by `ganomaly serve` at start; kept in this browser"),
		p.estimate(),
		app.Div().Class("train-actions").Body(
			app.Button().Type("submit").Class("button primary").ID("job-submit").Disabled(p.submitting).Text("Start training"),
			app.If(p.formMsg != "", app.P().Class("field-error").ID("form-error").Role("alert").Text(p.formMsg)),
			app.If(p.notice != "", app.P().Class("note").ID("train-notice").Text(p.notice)),
		),
	)
}

// estimate says about how long the job in the form would train, from the server's
// last measured throughput.
func (p *trainPage) estimate() app.UI {
	secs, ok := p.limits.Estimate(p.form)
	if !ok {
		return app.P().Class("note").ID("train-estimate").Text("Duration: no job has run on this server since it started, so there is no measured speed yet; the first job shows its own as it runs.")
	}
	m := p.limits.Measured
	return app.P().Class("note").ID("train-estimate").DataSet("seconds", int(secs+0.5)).Textf(
		"Estimated duration: about %s (the last job trained %.0f images/s at width %d, %d×%d; this one's width and size scale it).",
		api.FormatETA(secs), m.ImagesPerSecond, m.Width, m.ImageSize, m.ImageSize)
}

// field is a labelled input with its hint, or the reason it is refused: the server's
// limits as one types, then the server's answer to a submit.
func (p *trainPage) field(name, label string, input app.UI, hint string) app.UI {
	msg := p.fieldErr[name]
	if msg == "" && p.limits.MaxEpochs > 0 {
		msg = p.limits.RefuseField(name, p.form)
	}
	return app.Div().Class("train-field").DataSet("field", name).DataSet("invalid", msg != "").Body(
		app.Label().For("job-"+name).Text(label),
		input,
		app.If(msg != "", app.P().Class("field-error").ID("error-"+name).Role("alert").Text(msg)).
			ElseIf(hint != "", app.Small().Class("hint").Text(hint)),
	)
}

// intInput is a number input bound to v; hi 0 means no maximum.
func (p *trainPage) intInput(name string, v *int, lo, hi int) app.UI {
	// Input as one types (the limits are checked live), change for pasted or
	// scripted values.
	in := app.Input().Type("number").ID("job-" + name).Min(lo).Value(*v).OnInput(p.ValueTo(v)).OnChange(p.ValueTo(v))
	if hi > 0 {
		in = in.Max(hi)
	}
	return in
}

func (p *trainPage) stringSelect(name string, v *string, choices []string) app.UI {
	return app.Select().ID("job-" + name).OnChange(p.ValueTo(v)).Body(
		app.Range(choices).Slice(func(i int) app.UI {
			return app.Option().Value(choices[i]).Selected(choices[i] == *v).Text(choices[i])
		}),
	)
}

func (p *trainPage) intSelect(name string, v *int, choices []int) app.UI {
	return app.Select().ID("job-" + name).OnChange(p.ValueTo(v)).Body(
		app.Range(choices).Slice(func(i int) app.UI {
			s := strconv.Itoa(choices[i])
			return app.Option().Value(s).Selected(choices[i] == *v).Text(s)
		}),
	)
}
