package ui

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// batchBar shows a batch's progress and offers sorting, export and clearing.
type batchBar struct {
	app.Compo

	Done, Failed, Total, Anomalous int
	Rate                           float64 // images per second
	ByScore                        bool
	// Restored counts the results put back from this device.
	Restored int
	// Settled is false while cards wait for the next frames to show (data-settled,
	// for tests and scripts that read the cards).
	Settled bool
}

func (b *batchBar) Render() app.UI {
	finished := b.Done + b.Failed
	summary := fmt.Sprintf("%d of %d scored", b.Done, b.Total)
	if b.Failed > 0 {
		summary += fmt.Sprintf(", %d failed", b.Failed)
	}
	if b.Done > 0 {
		summary += fmt.Sprintf(", %d anomalous", b.Anomalous)
	}
	if b.Rate > 0 {
		summary += fmt.Sprintf(" · %.1f images/s", b.Rate)
	}
	sortLabel := "Sort by score"
	if b.ByScore {
		sortLabel = "Drop order"
	}
	return app.Section().Class("batch-bar").ID("batch-bar").
		DataSet("finished", finished).DataSet("failed", b.Failed).DataSet("total", b.Total).DataSet("settled", b.Settled).Body(
		app.Progress().ID("batch-progress").Max(b.Total).Value(finished).Aria("label", "batch progress"),
		app.P().Class("batch-summary").Text(summary),
		app.If(b.Restored > 0, app.P().Class("caption").ID("batch-restored").Textf("%d result%s kept on this device from an earlier visit; Clear forgets them.", b.Restored, plural(b.Restored))),
		app.Div().Class("batch-actions").Body(
			app.Button().Class("button").ID("sort-button").Text(sortLabel).OnClick(action(actionSort)),
			app.Button().Class("button").ID("export-button").Text("Export CSV").Disabled(finished == 0).OnClick(action(actionExport)),
			app.Button().Class("button subtle").ID("clear-button").Text("Clear").
				Title("forget these results, here and on this device").OnClick(action(actionClear)),
		),
	)
}

// action returns a click handler that reports the named action to the page.
func action(name string) app.EventHandler {
	return func(ctx app.Context, e app.Event) { ctx.NewAction(name) }
}
