package ui

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// modelPicker chooses the model and says what it is, whether its weights are on this
// device, and how loading went.
type modelPicker struct {
	app.Compo

	Models  []api.Model
	Current api.Model
	Status  modelStatus
	Message string
	Note    string
	Cached  map[string]bool
	// Locked while a batch is running: its results must come from one model.
	Locked bool
}

func (m *modelPicker) onChange(ctx app.Context, e app.Event) {
	ctx.NewActionWithValue(actionPickModel, ctx.JSSrc().Get("value").String())
}

func (m *modelPicker) Render() app.UI {
	cur := m.Current
	status := map[modelStatus]string{modelLoading: "loading", modelReady: "ready", modelFailed: "failed"}[m.Status]
	return app.Section().Class("model-bar").Body(
		app.Div().Class("model-choice").Body(
			app.Label().For("model-select").Text("Model"),
			app.Select().ID("model-select").Disabled(m.Locked || len(m.Models) < 2).OnChange(m.onChange).Body(
				app.Range(m.Models).Slice(func(i int) app.UI {
					o := m.Models[i]
					label := humanName(o)
					if o.Default {
						label += " · built in"
					} else if label != o.Name {
						label += " · " + o.Name // two models of the same data and class stay apart
					}
					if m.Cached[o.URL] {
						label += " · available offline"
					}
					return app.Option().Value(o.Name).Selected(o.Name == cur.Name).Text(label)
				}),
			),
		),
		app.If(cur.Name != "", app.Ul().Class("model-facts").Body(
			app.Li().Text(describeConfig(cur)),
			app.If(cur.Dataset != "", app.Li().Text("trained on "+cur.Dataset)),
			app.If(describeClass(cur) != "", app.Li().Text(describeClass(cur))),
			app.If(cur.AUC > 0, app.Li().Textf("test AUC %.3f", cur.AUC)),
			app.If(cur.Calibration.Calibrated(),
				app.Li().Textf("threshold %.3f", cur.NormalizedThreshold),
			).Else(
				app.Li().ID("model-uncalibrated").Text("uncalibrated: raw scores only, no threshold"),
			),
			app.Li().Class("model-version").ID("model-version").DataSet("version", cur.Version()).Body(
				app.Text("version "), app.Code().Text(cur.Version()),
				app.If(m.Cached[cur.URL],
					app.Span().Class("cached").ID("model-cached").Text(" · cached on this device"),
				).Else(
					app.Span().Class("not-cached").Text(" · not cached yet"),
				),
			),
		)),
		app.If(cur.Placeholder, app.P().Class("warning").Text("This model is an untrained placeholder: its scores mean nothing. "+cur.Summary)),
		app.P().Class("model-status "+status).ID("model-status").DataSet("status", status).Text(m.Message),
		app.If(m.Note != "", app.P().Class("note").Text(m.Note)),
	)
}
