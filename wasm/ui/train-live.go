package ui

import (
	"encoding/base64"
	"fmt"
	"math"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// jobByID finds a job of the list.
func (p *trainPage) jobByID(id string) (api.Job, bool) {
	for _, j := range p.jobs {
		if j.ID == id {
			return j, true
		}
	}
	return api.Job{}, false
}

// describeRequest says what a job trains: "mnist, anomaly 2, 3 epochs, 32×32, honest".
func describeRequest(r api.JobRequest) string {
	return fmt.Sprintf("%s, anomaly class %d, %d epoch%s, %d×%d, %s protocol",
		r.Dataset, r.AnomalyClass, r.Epochs, plural(r.Epochs), r.ImageSize, r.ImageSize, r.Protocol)
}

var trainConnLabel = map[trainConn]string{
	trainConnConnecting:   "connecting…",
	trainConnLive:         "live",
	trainConnReconnecting: "connection lost: reconnecting (no event will be missed)",
	trainConnEnded:        "finished",
	trainConnFailed:       "this browser cannot follow the job (no EventSource)",
}

// renderLive is the job on show: progress, losses, validation figures, and what can be
// done with it (cancel, resume, score with its model).
func (p *trainPage) renderLive() app.UI {
	t := &p.trace
	if t.JobID == "" {
		return app.Section().Class("train-live empty").ID("train-live").Body(
			app.P().Class("note").Text("No training job yet: start one above, and watch it here."),
		)
	}
	j, _ := p.jobByID(t.JobID)
	state := t.State
	if state == "" {
		state = j.State
	}
	pr := t.Progress
	frac := pr.Fraction()
	if state == api.JobSucceeded {
		frac = 1
	}
	return app.Section().Class("train-live state-"+string(state)).ID("train-live").
		DataSet("job", t.JobID).DataSet("state", string(state)).DataSet("points", len(t.Steps)).
		DataSet("epochs", len(t.Epochs)).DataSet("conn", string(p.conn)).DataSet("last-event", t.Last).Body(
		app.Div().Class("train-live-head").Body(
			app.H2().Body(app.Text("Job "), app.Code().Text(t.JobID)),
			app.Span().Class("train-state "+string(state)).ID("train-state").Text(string(state)),
			app.If(j.ID != "", app.P().Class("note").Text(describeRequest(j.Request))),
		),
		progressBar(frac),
		progressFigures(pr, state.Ended(), app.If(p.conn != "", app.Li().Class("train-conn "+string(p.conn)).ID("train-conn").Text(trainConnLabel[p.conn]))),
		app.If(t.Message != "" && !state.Ended(), app.P().Class("note").Text(t.Message)),
		lossCharts(t),
		samplesStrip(t),
		watchCharts(t),
		app.If(len(t.Epochs) > 0, p.renderEpochs()),
		app.If(state == api.JobFailed || state == api.JobCancelled || state == api.JobInterrupted,
			app.P().Class("train-error").ID("train-error").Text(t.Error)),
		app.If(state == api.JobSucceeded && t.Model != "",
			app.Div().Class("train-published").ID("train-published").DataSet("model", t.Model).Body(
				app.P().Body(
					app.Text("Published as "), app.Code().Text(t.Model),
					app.If(t.TestAUC > 0, app.Textf(" (test AUC %.3f)", t.TestAUC)),
					app.Text(": it is in the model picker."),
				),
				app.Button().Class("button primary").ID("score-with-model").Disabled(p.modelsReady != t.Model).
					Text("Score images with it").
					OnClick(func(ctx app.Context, e app.Event) { p.scoreWith(ctx, t.Model) }),
			),
		),
		app.Div().Class("train-live-actions").Body(
			app.If(state == api.JobQueued || state == api.JobRunning,
				app.Button().Class("button").ID("cancel-job").Text("Cancel").
					OnClick(func(ctx app.Context, e app.Event) { p.act(ctx, "DELETE", api.JobURL(t.JobID), t.JobID) }),
			),
			app.If(state == api.JobInterrupted,
				app.Button().Class("button primary").ID("resume-job").Text("Resume").
					OnClick(func(ctx app.Context, e app.Event) { p.act(ctx, "POST", api.JobResumeURL(t.JobID), t.JobID) }),
			),
		),
	)
}

// renderEpochs tabulates the figures of each finished epoch.
func (p *trainPage) renderEpochs() app.UI { return epochsTable(p.trace.Epochs) }

// epochsTable tabulates the figures of each finished epoch of a training.
func epochsTable(eps []api.EpochFigures) app.UI {
	paper, watched := false, false
	for _, e := range eps {
		paper = paper || e.TestAUC > 0
		watched = watched || e.Watch != nil
	}
	return app.Table().Class("train-epochs").ID("train-epochs").Body(
		app.THead().Body(app.Tr().Body(
			app.Th().Text("epoch"),
			app.If(paper, app.Th().Text("test AUC (paper protocol)")).Else(
				app.Th().Text("validation |x̂ − x|"), app.Th().Text("mean validation score")),
			app.If(watched, app.Th().Text("AUC, watched anomalies")),
			app.Th().Text(""),
		)),
		app.TBody().Body(app.Range(eps).Slice(func(i int) app.UI {
			e := eps[i]
			return app.Tr().Body(
				app.Td().Text(e.Epoch),
				app.If(paper, app.Td().Textf("%.4f", e.TestAUC)).Else(
					app.Td().Textf("%.4f", e.ValLoss), app.Td().Textf("%.3g", e.ValScore)),
				app.If(watched, watchedAUC(e)),
				app.Td().Text(map[bool]string{true: "best so far", false: ""}[e.Best]),
			)
		})),
	)
}

// renderJobs lists the server's jobs; a click shows one.
func (p *trainPage) renderJobs() app.UI {
	if len(p.jobs) == 0 {
		return app.Text("")
	}
	return app.Section().Class("train-jobs").ID("job-list").Body(
		app.H2().Text("Jobs"),
		app.Ul().Body(app.Range(p.jobs).Slice(func(i int) app.UI {
			j := p.jobs[i]
			label := describeRequest(j.Request)
			if j.Model != "" {
				label += " → " + j.Model
			}
			return app.Li().Class("train-job").DataSet("job", j.ID).DataSet("state", string(j.State)).
				DataSet("shown", j.ID == p.trace.JobID).Body(
				app.Button().Class("button subtle").Body(
					app.Code().Text(j.ID),
					app.Span().Class("train-state "+string(j.State)).Text(string(j.State)),
					app.Span().Class("train-job-label").Text(label),
				).OnClick(func(ctx app.Context, e app.Event) { p.follow(ctx, j.ID) }),
			)
		})),
	)
}

// progressBar shows a fraction in [0, 1] of a training done.
func progressBar(frac float64) app.UI {
	return app.Div().Class("train-progress").Role("progressbar").Aria("valuemin", 0).Aria("valuemax", 100).
		Aria("valuenow", int(frac*100)).Body(
		app.Div().Class("train-progress-fill").Style("width", fmt.Sprintf("%.1f%%", frac*100)),
	)
}

// progressFigures lists a training's epoch, step, throughput and time left, then extra.
func progressFigures(pr api.JobProgress, ended bool, extra ...app.UI) app.UI {
	return app.Ul().Class("train-figures").Body(
		app.Li().Body(app.Span().Text("epoch "), app.B().Textf("%d / %d", max(pr.Epoch, 0), pr.Epochs)),
		app.Li().Body(app.Span().Text("step "), app.B().ID("train-step").Textf("%d / %d", pr.Iteration, pr.Iterations)),
		app.If(pr.ImagesPerSecond > 0, app.Li().Body(app.B().ID("train-rate").Textf("%.0f", pr.ImagesPerSecond), app.Span().Text(" images/s"))),
		app.If(pr.ETASeconds > 0 && !ended, app.Li().Body(app.Span().Text("about "), app.B().ID("train-eta").Text(api.FormatETA(pr.ETASeconds)), app.Span().Text(" left"))),
		app.Range(extra).Slice(func(i int) app.UI { return extra[i] }),
	)
}

// lossCharts draws the trace's loss curves, one chart per series.
func lossCharts(t *trainTrace) app.UI {
	return app.Div().Class("train-charts").Body(
		app.Range(trainSeries).Slice(func(i int) app.UI {
			s := trainSeries[i]
			return &trainChart{Key: s.Key, Label: s.Label, Points: t.curve(s.Value), XMax: t.Progress.Iterations}
		}),
	)
}

// watchedAUC is an epoch's AUC on the watched anomalies, as a table cell.
func watchedAUC(e api.EpochFigures) app.UI {
	if e.Watch == nil {
		return app.Td()
	}
	return app.Td().Textf("%.3f", e.Watch.AUC)
}

// watchCharts shows, after each epoch, how the validation normals' scores and the
// watched anomalies' separate: the teaching view of the latent distance while the
// model learns. They choose nothing; the caption says so.
func watchCharts(t *trainTrace) app.UI {
	w := t.Watch
	if w == nil {
		return app.Text("")
	}
	hs := w.Histograms
	tpr, fpr := hs.RatesAt(hs.NearestEdge(hs.Threshold))
	return app.Figure().Class("train-watch").ID("train-watch").DataSet("epoch", t.WatchEpoch).DataSet("auc", fmt.Sprintf("%.4f", w.AUC)).Body(
		app.Div().Class("train-watch-charts").Body(
			histogramChart("watch-hist", "histogram of raw scores: validation normals and watched anomalies, with the threshold the normals give", "raw score A(x)", hs, math.NaN(), hs.Threshold, math.NaN()),
			rocChart("watch-roc", w.ROC, fpr, tpr),
		),
		app.P().Class("legend").Body(
			app.Span().Class("legend-normal").Text("validation normals"),
			app.Span().Class("legend-anomalous").Text("watched anomalies"),
			app.Span().Class("legend-threshold").Text("threshold the normals give"),
		),
		app.FigCaption().Body(
			app.Textf("After epoch %d: the raw scores A(x) = mean (z − ẑ)² of %d validation normals (green) and of %d known anomalies set aside to watch training by (red), AUC ",
				t.WatchEpoch, hs.Normal.Total()+hs.Normal.Below+hs.Normal.Above, hs.Anomalous.Total()+hs.Anomalous.Below+hs.Anomalous.Above),
			app.B().ID("train-watch-auc").Textf("%.3f", w.AUC),
			app.Text(". They separate as the model learns what normal looks like. The line is the threshold the normals would give now (their "+
				"95th percentile). These anomalies are not the test, and they choose nothing: the model is selected and calibrated on normal images only."),
		),
	)
}

// samplesStrip shows the latest epoch's reconstructions: the same validation images
// after every epoch, so that one sees them get better.
func samplesStrip(t *trainTrace) app.UI {
	if len(t.Samples) == 0 {
		return app.Text("")
	}
	png := func(b []byte) string { return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b) }
	return app.Figure().Class("train-samples").ID("train-samples").DataSet("epoch", t.SamplesEpoch).DataSet("count", len(t.Samples)).Body(
		app.Div().Class("train-samples-row").Body(app.Range(t.Samples).Slice(func(i int) app.UI {
			s := t.Samples[i]
			return app.Div().Class("train-sample").Body(
				app.Img().Src(png(s.Input)).Alt("a validation image").Width(48).Height(48),
				app.Img().Src(png(s.Reconstruction)).Alt("its reconstruction").Width(48).Height(48),
			)
		})),
		app.FigCaption().Textf("After epoch %d: validation images (top) and G's reconstructions x̂ of them (bottom), in eval mode.", t.SamplesEpoch),
	)
}
