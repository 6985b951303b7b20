package ui

import (
	"fmt"
	"path"
	"strconv"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// actionSample asks the check page to score shipped digits: the value is a sample's
// URL, or "" for all of them.
const actionSample = "ganomaly/sample"

// sampleStrip offers the MNIST test digits that come with the app, for someone with
// no images at hand: one click scores one, another scores them all. They are cached
// with the app, so this works offline too.
type sampleStrip struct {
	app.Compo

	// AnomalyClass is the digit the current model holds out, to mark it.
	AnomalyClass string
	Disabled     bool
}

func (s *sampleStrip) Render() app.UI {
	samples := Samples()
	return app.Section().Class("samples").ID("samples").Body(
		app.P().Class("samples-title").Body(
			app.Text("No images at hand? Try MNIST test digits"),
			app.If(s.AnomalyClass != "", app.Textf(" (this model calls %s the anomaly)", s.AnomalyClass)),
			app.Text(": "),
			app.Button().Class("button").ID("score-samples").Text("Score all").Disabled(s.Disabled).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(actionSample, "") }),
		),
		app.Div().Class("samples-row").Body(app.Range(samples).Slice(func(i int) app.UI {
			sm := samples[i]
			anomaly := strconv.Itoa(sm.Digit) == s.AnomalyClass
			name := path.Base(sm.URL)
			return app.Button().Class("sample").DataSet("file", name).DataSet("anomaly", anomaly).Disabled(s.Disabled).
				Title(fmt.Sprintf("score this %d", sm.Digit)).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewActionWithValue(actionSample, sm.URL) }).
				Body(app.Img().Src(sm.URL).Alt(fmt.Sprintf("MNIST test digit %d", sm.Digit)).Width(28).Height(28))
		})),
	)
}
