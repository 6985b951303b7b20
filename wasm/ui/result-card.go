package ui

import (
	"fmt"
	"strconv"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// resultCard shows one file: what the model saw, what it reconstructed, where the two
// differ, and the score against the threshold. Its data-* attributes carry the exact
// numbers for tests and scripts. Its "How is this scored?" link opens the teaching
// view on the same file.
type resultCard struct {
	app.Compo

	Item item
}

func (c *resultCard) Render() app.UI {
	it := c.Item
	state := map[itemState]string{itemQueued: "queued", itemDone: "done", itemFailed: "failed"}[it.State]
	class := "card " + state
	if it.State == itemDone {
		class += " " + it.verdict()
	}
	card := app.Article().Class(class).DataSet("file", it.Name).DataSet("state", state)
	head := app.Header().Class("card-head").Body(
		app.Span().Class("file-name").Title(it.Name).Text(it.Name),
		app.Span().Class("file-size").Text(humanBytes(it.Size)),
	)
	switch it.State {
	case itemQueued:
		return card.Body(head, app.P().Class("card-wait").Text("Waiting for a kernel worker…"))
	case itemFailed:
		return card.DataSet("error", it.Err).Body(head,
			app.P().Class("card-error").Role("alert").Text("Cannot score this file: "+it.Err),
		)
	}
	pct := func(v float64) string { return strconv.FormatFloat(100*min(1, max(0, v)), 'f', 1, 64) + "%" }
	figures := app.Div().Class("triptych").Body(
		figure(it.InputURL, "input x", "the image as the model sees it"),
		figure(it.ReconURL, "rebuilt x̂", "the reconstruction: what the generator rebuilt from the latent code z"),
		figure(it.HeatURL, "|x − x̂|", "where the reconstruction differs, dark to bright"),
	)
	explain := app.A().Class("explain").Href(PathTeach + "?id=" + strconv.Itoa(it.ID)).Text("How is this scored?")
	scope := app.If(it.ScopeNote != "", app.P().Class("card-note").Title("the model was trained on other images: read its score with care").Text(it.ScopeNote))
	if it.Uncalibrated {
		// No scale and no threshold: the raw latent distance, and why there is no verdict.
		return card.
			DataSet("raw", strconv.FormatFloat(it.Raw, 'g', -1, 64)).
			DataSet("verdict", uncalibratedVerdict).
			DataSet("model", it.Model+"@"+it.ModelVersion).
			Body(
				head, figures,
				app.Dl().Class("numbers").Body(
					app.Dt().Text("raw A(x)"), app.Dd().Class("raw").Text(strconv.FormatFloat(it.Raw, 'g', 5, 64)),
				),
				app.P().Class("verdict").Text("No verdict: this model has no threshold (it was not calibrated on normal images). Compare raw scores: higher is more anomalous."),
				scope,
				explain,
			)
	}
	return card.
		DataSet("score", strconv.FormatFloat(it.Score, 'g', -1, 64)).
		DataSet("raw", strconv.FormatFloat(it.Raw, 'g', -1, 64)).
		DataSet("verdict", verdict(it.Anomalous)).
		DataSet("model", it.Model+"@"+it.ModelVersion).
		DataSet("note", it.ScopeNote).
		Body(
			head,
			figures,
			app.Div().Class("meter").Title(fmt.Sprintf("score %.4f, threshold %.4f", it.Score, it.Threshold)).Body(
				app.Div().Class("meter-fill").Style("width", pct(it.Score)),
				app.Div().Class("meter-threshold").Style("left", pct(it.Threshold)),
			),
			app.Dl().Class("numbers").Body(
				app.Dt().Text("score"), app.Dd().Class("score").Text(strconv.FormatFloat(it.Score, 'f', 4, 64)),
				app.Dt().Text("raw A(x)"), app.Dd().Class("raw").Text(strconv.FormatFloat(it.Raw, 'g', 5, 64)),
				app.Dt().Text("threshold"), app.Dd().Text(strconv.FormatFloat(it.Threshold, 'f', 4, 64)),
			),
			app.P().Class("verdict").Text(map[bool]string{true: "Anomalous", false: "Normal"}[it.Anomalous]),
			scope,
			explain,
		)
}

func figure(src, caption, title string) app.UI {
	return app.Figure().Title(title).Body(
		app.Img().Src(src).Alt(caption),
		app.FigCaption().Text(caption),
	)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
