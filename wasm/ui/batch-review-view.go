package ui

import (
	"fmt"
	"math"
	"strconv"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Actions of the batch's review: a threshold (value: the [0, 1] score as a string),
// back to the model's, and how the batch is shown (value: a batchShow).
const (
	actionThreshold      = "ganomaly/threshold"
	actionResetThreshold = "ganomaly/reset-threshold"
	actionShow           = "ganomaly/show"
)

// batchShow is how the batch is shown.
type batchShow struct {
	Table, OnlyAnomalous, More bool
}

// batchReview is one threshold for the whole batch, on the score's [0, 1] scale:
// moving it re-labels every card, the summary and the CSV, and a reset brings back
// the model's. With labels in the file names it shows the confusion matrix,
// precision, recall and the batch's own ROC; always a histogram of the batch's
// scores, and the ways to show the batch (cards or a table, anomalous only).
type batchReview struct {
	app.Compo

	Review        review
	ModelThr      float64
	Table, Only   bool
	Hidden, Shown int
}

func (b *batchReview) Render() app.UI {
	r := b.Review
	thr := strconv.FormatFloat(r.Threshold, 'f', 3, 64)
	return app.Section().Class("batch-review").ID("batch-review").
		DataSet("threshold", strconv.FormatFloat(r.Threshold, 'g', -1, 64)).DataSet("custom", r.Custom).
		DataSet("labelled", r.Labelled).DataSet("anomalous", r.Anomalous).Body(
		app.Div().Class("review-threshold").Body(
			app.Label().For("batch-threshold").Body(
				app.Text("Threshold for this batch, on the score's 0–1 scale: "),
				app.Output().ID("batch-threshold-value").Text(thr),
			),
			// In percent of the 0–1 scale, to a tenth: the browser's default range
			// (0 to 100), so that the value is in range whatever order go-app sets the
			// attributes in (a value set before a larger max was clamped to 100).
			app.Input().ID("batch-threshold").Type("range").Min(0).Max(100).Step(0.1).
				Value(strconv.FormatFloat(math.Round(r.Threshold*1000)/10, 'f', 1, 64)).
				OnInput(func(ctx app.Context, e app.Event) {
					if v, err := strconv.ParseFloat(ctx.JSSrc().Get("value").String(), 64); err == nil {
						ctx.NewActionWithValue(actionThreshold, strconv.FormatFloat(v/100, 'g', -1, 64))
					}
				}),
			app.Button().Class("button subtle").ID("reset-threshold").Disabled(!r.Custom).
				Textf("Model's threshold (%.3f)", b.ModelThr).
				OnClick(func(ctx app.Context, e app.Event) { ctx.NewAction(actionResetThreshold) }),
			app.P().Class("caption").Textf("%d of %d scored images are at or above it. %s",
				r.Anomalous, r.Scored, map[bool]string{true: "This threshold is yours: the cards and the CSV use it.", false: "This is the model's calibrated threshold."}[r.Custom]),
		),
		app.Div().Class("review-charts").Body(
			histogramChart("batch-hist", "histogram of this batch's scores on the 0–1 scale, with the threshold", "score, 0–1", r.Histograms, math.NaN(), r.Threshold, math.NaN()),
			app.If(r.Labels, b.labelled()),
		),
		app.P().Class("legend").Body(
			app.If(r.Labels, app.Span().Class("legend-normal").Text("labelled normal"), app.Span().Class("legend-anomalous").Text("labelled anomalous")).
				Else(app.Span().Class("legend-normal").Text("every scored image")),
			app.Span().Class("legend-threshold").Text("threshold"),
			app.If(!r.Labels, app.Text(" · Name files normal…/anomalous… (or label2…, digit7…) to see how the threshold fares.")),
		),
		app.Div().Class("review-show").Body(
			app.Label().Body(
				app.Input().Type("checkbox").ID("show-table").Checked(b.Table).OnChange(func(ctx app.Context, e app.Event) {
					ctx.NewActionWithValue(actionShow, batchShow{Table: ctx.JSSrc().Get("checked").Bool(), OnlyAnomalous: b.Only})
				}),
				app.Text(" as a table"),
			),
			app.Label().Body(
				app.Input().Type("checkbox").ID("show-anomalous").Checked(b.Only).OnChange(func(ctx app.Context, e app.Event) {
					ctx.NewActionWithValue(actionShow, batchShow{Table: b.Table, OnlyAnomalous: ctx.JSSrc().Get("checked").Bool()})
				}),
				app.Text(" anomalous only"),
			),
			app.If(b.Hidden > 0, app.Span().Class("caption").ID("hidden-count").Textf(" %d of %d not shown", b.Hidden, b.Hidden+b.Shown)),
		),
	)
}

// labelled shows how the threshold fares on the images whose names say what they are.
func (b *batchReview) labelled() app.UI {
	r := b.Review
	pct := func(v float64) string {
		if math.IsNaN(v) {
			return "–"
		}
		return strconv.FormatFloat(100*v, 'f', 1, 64) + "%"
	}
	fpr, tpr := ratio(r.FP, r.FP+r.TN), ratio(r.TP, r.TP+r.FN)
	return app.Div().Class("review-labels").Body(
		app.Table().Class("confusion").ID("batch-confusion").DataSet("tp", r.TP).DataSet("fp", r.FP).DataSet("tn", r.TN).DataSet("fn", r.FN).Body(
			app.THead().Body(app.Tr().Body(app.Th().Text(fmt.Sprintf("%d labelled", r.Labelled)), app.Th().Text("called anomalous"), app.Th().Text("called normal"))),
			app.TBody().Body(
				app.Tr().Body(app.Th().Text("anomalous"), app.Td().Class("tp").Text(r.TP), app.Td().Class("fn").Text(r.FN)),
				app.Tr().Body(app.Th().Text("normal"), app.Td().Class("fp").Text(r.FP), app.Td().Class("tn").Text(r.TN)),
			),
		),
		app.Dl().Class("numbers").Body(
			app.Dt().Text("precision"), app.Dd().ID("batch-precision").Text(pct(r.Precision)),
			app.Dt().Text("recall"), app.Dd().ID("batch-recall").Text(pct(r.Recall)),
			app.Dt().Text("ROC AUC of this batch"), app.Dd().ID("batch-auc").Text(strconv.FormatFloat(r.AUC, 'f', 3, 64)),
		),
		rocChart("batch-roc", r.ROC, zeroNaN(fpr), zeroNaN(tpr)),
	)
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// batchTable lists the batch compactly, one row per file: what a thousand results
// need.
func batchTable(items []item) app.UI {
	return app.Div().Class("table-scroll").Body(app.Table().Class("batch-table").ID("batch-table").Body(
		app.THead().Body(app.Tr().Body(
			app.Th().Text("file"), app.Th().Text("score (0–1)"), app.Th().Text("raw A(x)"), app.Th().Text("verdict"),
		)),
		app.TBody().Body(app.Range(items).Slice(func(i int) app.UI {
			it := items[i]
			row := app.Tr().DataSet("file", it.Name)
			switch it.State {
			case itemQueued:
				return row.Body(app.Td().Text(it.Name), app.Td().ColSpan(3).Text("waiting…"))
			case itemFailed:
				return row.Class("failed").Body(app.Td().Text(it.Name), app.Td().ColSpan(3).Text(it.Err))
			}
			score := "–"
			if !it.Uncalibrated {
				score = strconv.FormatFloat(it.Score, 'f', 4, 64)
			}
			return row.Class(it.verdict()).DataSet("verdict", it.verdict()).Body(
				app.Td().Body(app.A().Href(PathTeach+"?id="+strconv.Itoa(it.ID)).Text(it.Name)),
				app.Td().Text(score), app.Td().Text(strconv.FormatFloat(it.Raw, 'g', 5, 64)), app.Td().Text(it.verdict()),
			)
		})),
	))
}
