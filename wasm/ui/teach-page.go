package ui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/card"
	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// PathTeach is the teaching view: how one image's z = G_E(x) and ẑ = E(x̂) become its
// score, opened from a result card (?id= names the card's file).
const PathTeach = "/teach"

// IDs of the teaching view's file pickers, for when it is opened without a card.
const (
	teachFileInput    = "teach-file"
	teachCompareInput = "teach-compare-file"
	// teachCanvas is the drawing pad; drawingID marks its subject.
	teachCanvas = "teach-canvas"
	drawingID   = -3
)

// teachPage explains one image. It runs the file again, in a kernel worker of its own
// (the check page's workers may still be scoring the batch, which outlives that page,
// and may hold another model): the worker sends back z, ẑ
// and the images, and everything else (the terms, their sum, the calibrated score) is
// computed here with package model, from those codes. Running the model on the page
// itself would be simpler but would link the kernels and image decoders into app.wasm
// (measured: +0.46 MB gzipped) and freeze the page for wide models.
type teachPage struct {
	app.Compo

	state   string // "empty", "loading", "ready", "error"
	message string
	online  bool

	model    api.Model
	card     *card.Card
	cardNote string
	subject  teachSubject
	a, b     *explanation
	bNote    string
	others   []teachSubject
	edge     int // the threshold slider's bin edge
	releases []func()
	// gen counts runs: the result of a run overtaken by a newer one is dropped.
	gen int
	// A drawing is scored again as it changes, one run at a time: drawBusy while a run
	// is under way, drawDirty when the drawing changed meanwhile; drawRuns counts the
	// drawing's finished runs.
	drawBusy, drawDirty bool
	drawRuns            int
	// step is the stage the step-through highlights, 1 to stepCount; 0 when
	// every stage is shown at once.
	step int
}

// teachWorker is the teaching view's kernel worker and the model loaded in it; it
// lives while the page is open.
var teachWorker struct {
	mu  sync.Mutex
	url string
	p   *pool
}

func (p *teachPage) OnNav(ctx app.Context) {
	p.state = "empty"
	if !app.IsClient {
		return
	}
	p.online = isOnline()
	for _, r := range p.releases {
		r()
	}
	p.releases = []func(){watchDrawing(teachCanvas, func() {
		ctx.Dispatch(func(ctx app.Context) { p.onDrawn(ctx) })
	}), watchPicks([]string{teachFileInput, teachCompareInput}, func(id string, f fileRef) {
		ctx.Dispatch(func(ctx app.Context) {
			s := teachSubject{ID: -1, Name: f.name, File: f.handle, Model: p.model}
			if id == teachFileInput {
				p.subject = s
				p.run(ctx, s, true)
			} else if p.a != nil {
				s.ID = -2
				p.run(ctx, s, false)
			}
		})
	})}
	id, err := strconv.Atoi(ctx.Page().URL().Query().Get("id"))
	if s, ok := findSubject(id); err == nil && ok {
		p.subject = s
		p.run(ctx, s, true)
		return
	}
	// Opened directly: the model the check page would use, and a file picker.
	def, haveDef := defaultModel()
	stored := storedModels(ctx.LocalStorage())
	var choice string
	ctx.LocalStorage().Get(storeChoice, &choice)
	if m, ok := choose(mergeModels(def, haveDef, withLocal(ctx.LocalStorage(), stored.Models)), choice); ok {
		p.model = m
		p.showCard(ctx, m)
		p.message = "Choose an image to see how the model " + humanName(m) + " scores it."
	} else {
		p.state, p.message = "error", "No model is known yet: open the check page once while online."
	}
}

func (p *teachPage) OnDismount() {
	for _, r := range p.releases {
		r()
	}
	p.releases = nil
	teachWorker.mu.Lock()
	defer teachWorker.mu.Unlock()
	if teachWorker.p != nil {
		teachWorker.p.close()
		teachWorker.p, teachWorker.url = nil, ""
	}
}

// showCard loads the model card of m and shows it, unless another model was chosen
// meanwhile.
func (p *teachPage) showCard(ctx app.Context, m api.Model) {
	p.setCard(nil, "")
	ctx.Async(func() {
		c, note := modelCard(m)
		ctx.Dispatch(func(ctx app.Context) {
			if p.model.URL == m.URL {
				p.setCard(c, note)
			}
		})
	})
}

func (p *teachPage) setCard(c *card.Card, note string) {
	p.card, p.cardNote = c, note
	if c != nil && c.HasTest() {
		p.edge = c.Histograms.NearestEdge(c.Histograms.Threshold)
	}
}

// modelCard reads the model card of m, from this device's cache or else the server
// (and keeps it for offline use); the note says why the panels that need it are left
// out, or what of it could not be read.
func modelCard(m api.Model) (*card.Card, string) {
	if m.CardURL == "" {
		return nil, "This model has no model card: the panels that need its test figures are left out."
	}
	raw, err := fetchCard(m)
	if err != nil {
		return nil, "This model's card cannot be loaded (" + err.Error() + "): the panels that need it are left out."
	}
	return parseCard(raw)
}

// parseCard reads a model card; a card that is partly readable is kept with a note.
func parseCard(raw []byte) (*card.Card, string) {
	c, err := card.Parse(raw)
	if c == nil {
		return nil, "This model's card cannot be read (" + err.Error() + "): the panels that need it are left out."
	}
	if err != nil {
		return c, err.Error()
	}
	return c, ""
}

// run explains s (primary) or the image to compare with it; it loads the model first
// when s uses another one.
func (p *teachPage) run(ctx app.Context, s teachSubject, primary bool) {
	drawing := s.ID == drawingID
	switch {
	case primary && drawing:
		// A drawing is scored again and again: its last explanation stays on show
		// until the next one is there.
		p.model = s.Model
	case primary:
		p.model = s.Model
		p.setCard(nil, "")
		p.a, p.b, p.bNote = nil, nil, ""
		p.state, p.message = "loading", "Running the model "+humanName(s.Model)+" on "+s.Name+" in this page…"
	default:
		p.bNote = "Scoring " + s.Name + "…"
	}
	p.gen++
	gen := p.gen
	m, c := s.Model, p.card
	ctx.Async(func() {
		var note string
		if primary {
			c, note = modelCard(m)
		}
		e, err := explainFile(m, s, c)
		var contrast *explanation
		var contrastErr error
		others := recentSubjects()
		if primary && err == nil && !drawing {
			if o, ok := contrastFor(s, others); ok {
				contrast, contrastErr = explainFile(m, o, c)
			}
		}
		ctx.Dispatch(func(ctx app.Context) {
			if drawing {
				defer p.drawDone(ctx)
			}
			if gen != p.gen { // overtaken: a newer run reports
				return
			}
			p.others = others
			if primary {
				p.setCard(c, note)
			}
			if err != nil {
				if primary {
					p.state, p.message = "error", "Cannot explain "+s.Name+": "+err.Error()
				} else {
					p.bNote = "Cannot score " + s.Name + ": " + err.Error()
				}
				return
			}
			if primary {
				p.a, p.state, p.message = e, "ready", ""
				p.b = contrast
				if contrastErr != nil {
					p.bNote = "Cannot score the image to compare with: " + contrastErr.Error()
				}
			} else {
				p.b, p.bNote = e, ""
			}
		})
	})
}

// onDrawn scores the drawing again, unless a run is under way: then it is scored once
// more when that run ends.
func (p *teachPage) onDrawn(ctx app.Context) {
	if p.drawBusy {
		p.drawDirty = true
		return
	}
	m := p.model
	if m.URL == "" {
		return
	}
	p.drawBusy, p.drawDirty = true, false
	ctx.Async(func() {
		f, err := drawingFile(teachCanvas)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.drawBusy, p.drawDirty = false, true // the next stroke tries again
				p.message = "Cannot read the drawing: " + err.Error()
				return
			}
			s := teachSubject{ID: drawingID, Name: "your drawing", File: f, Model: m}
			p.subject = s
			p.run(ctx, s, true)
		})
	})
}

// drawDone ends a run on the drawing, and starts the next if it changed meanwhile.
func (p *teachPage) drawDone(ctx app.Context) {
	p.drawBusy = false
	p.drawRuns++
	if p.drawDirty {
		p.onDrawn(ctx)
	}
}

// drawPad is the drawing pad: draw a digit, and the panels below follow it.
func (p *teachPage) drawPad() app.UI {
	prompt := "Draw a digit with the mouse, a pen or a finger: the panels below follow your drawing."
	if c := p.model.AnomalyClass; c != "" && p.model.Dataset == "mnist" {
		prompt = fmt.Sprintf("Draw a digit with the mouse, a pen or a finger: the panels below follow your drawing. This model learnt every digit but %s. Draw a %s and watch the score rise; then try to fool it: a %s it calls normal, or another digit it calls anomalous.", c, c, c)
	}
	return app.Section().Class("teach-draw").ID("teach-draw").DataSet("runs", p.drawRuns).Body(
		app.Canvas().ID(teachCanvas).Width(280).Height(280).Aria("label", "drawing pad").Class("draw-pad"),
		app.Div().Class("draw-side").Body(
			app.P().Class("caption").Text(prompt),
			app.Button().Class("button subtle").ID("clear-drawing").Text("Clear").OnClick(func(ctx app.Context, e app.Event) {
				clearDrawing(teachCanvas)
				if p.drawRuns > 0 || p.drawBusy {
					p.onDrawn(ctx) // the panels follow the empty pad too
				}
			}),
		),
	)
}

// explainFile runs the model m on the file of s in the teaching view's worker.
func explainFile(m api.Model, s teachSubject, c *card.Card) (*explanation, error) {
	done, err := submitTeach(m, fileRef{handle: s.File, name: s.Name})
	if err != nil {
		return nil, err
	}
	r := <-done
	if r.Err != nil {
		return nil, r.Err
	}
	return explain(s.Name, r, m.Calibration, c), nil
}

// submitTeach queues a file on the teaching view's worker, started (or given m's
// weights) first when needed. It holds the lock while it submits, so that the page's
// dismount never closes the worker's queue under a submission.
func submitTeach(m api.Model, f fileRef) (<-chan scoreResult, error) {
	teachWorker.mu.Lock()
	defer teachWorker.mu.Unlock()
	if m.URL == "" {
		return nil, errors.New("no model chosen")
	}
	if !teachWorker.p.usable() {
		pl, err := startPool(1)
		if err != nil {
			return nil, err
		}
		teachWorker.p, teachWorker.url = pl, ""
	}
	if teachWorker.url != m.URL {
		w, _, err := loadWeights(m)
		if err != nil {
			return nil, err
		}
		if err := teachWorker.p.load(w); err != nil {
			return nil, err
		}
		teachWorker.url = m.URL
	}
	done := make(chan scoreResult, 1)
	teachWorker.p.submit(job{file: f, done: func(r scoreResult) { done <- r }})
	return done, nil
}

// g formats a number for reading; data-value attributes carry the full precision.
func g(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

func full(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }

func (p *teachPage) Render() app.UI {
	return app.Div().Class("app").Body(
		&appHeader{Online: p.online},
		app.Main().Class("teach").ID("teach").DataSet("state", p.state).DataSet("client", app.IsClient).Body(
			app.Nav().Class("teach-nav").Body(
				app.A().Class("button subtle").Href(PathCheck).Text("← Back to the check page"),
			),
			app.H1().Text("How an image gets its score"),
			app.P().Class("teach-lead").Text("GANomaly learns normal images only. It squeezes an image x into a short code z, rebuilds the image x̂ from that code, and squeezes x̂ again into ẑ. For normal images the two codes agree; for an anomaly they drift apart, and the distance between z and ẑ is the score."),
			// The pad comes before the parts that come and go: go-app matches children
			// by position, and a canvas it re-creates loses its drawing.
			p.drawPad(),
			app.If(p.message != "", app.P().ID("teach-status").Class("teach-status "+p.state).Role("status").Text(p.message)),
			app.If(p.state != "ready", app.P().Body(
				app.Label().Class("button").For(teachFileInput).Text("Choose an image"),
				app.Input().ID(teachFileInput).Class("visually-hidden").Type("file").Accept("image/*"),
			)),
			p.maybePanels(),
		),
	)
}

// maybePanels renders the panels once an explanation is there (app.If would build
// them eagerly, from a nil explanation).
func (p *teachPage) maybePanels() app.UI {
	if p.state != "ready" || p.a == nil {
		return app.Div()
	}
	e := p.a
	cal := p.calibration()
	return app.Div().Class("teach-panels").Body(
		p.stages(e),
		p.distance(e, cal),
		p.population(e, cal),
		p.latentMap(e),
		p.comparison(cal),
		p.formulas(cal),
	)
}

func (p *teachPage) calibration() model.Calibration { return p.model.Calibration }

func panel(id, title, caption string, body ...app.UI) app.UI {
	return app.Section().Class("teach-panel").ID(id).Body(
		app.H2().Text(title),
		app.P().Class("caption").Text(caption),
		app.Div().Body(body...),
	)
}

// stepCount is the number of stages of the step-through: x, z, x̂, ẑ, the score.
const stepCount = 5

// stepText says, with this image's numbers, what stage k (from 1) does.
func stepText(k int, e *explanation, cal model.Calibration) string {
	nz := len(e.Z)
	switch k {
	case 1:
		return "1 of 5 · x: the image as the model sees it, resized and scaled to [−1, 1]. Nothing is learnt about it yet."
	case 2:
		lo, hi := minMax(e.Z)
		return fmt.Sprintf("2 of 5 · z = G_E(x): encoder 1 squeezes x into %d numbers, from %s to %s (length ‖z‖ = %s). Everything the model keeps of the image is in them.", nz, g(lo), g(hi), g(norm(e.Z)))
	case 3:
		return "3 of 5 · x̂ = G_D(z): the decoder rebuilds an image from z alone. For the images it learnt, x̂ looks like x; the picture of |x − x̂| shows where it does not."
	case 4:
		return fmt.Sprintf("4 of 5 · ẑ = E(x̂): encoder 2 squeezes the rebuilt image into %d numbers again (‖ẑ‖ = %s). For a normal image, ẑ comes back close to z.", nz, g(norm(e.ZHat)))
	}
	verdict := "no verdict: this model has no threshold"
	if cal.Calibrated() {
		verdict = fmt.Sprintf("%s on the 0–1 scale, against the threshold %s: %s", strconv.FormatFloat(e.Score, 'f', 4, 64),
			strconv.FormatFloat(cal.NormalizedThreshold(), 'f', 4, 64), map[bool]string{true: "anomalous", false: "normal"}[e.Anomalous])
	}
	how := fmt.Sprintf("the mean of the %d squared differences (z_i − ẑ_i)²", nz)
	if e.Kind == model.ScoreL1 {
		how = fmt.Sprintf("the sum of the %d differences |z_i − ẑ_i|", nz)
	}
	return fmt.Sprintf("5 of 5 · the score: %s is the raw score A(x) = %s; calibrated, %s.", how, g(e.Raw), verdict)
}

func minMax(v []float32) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = min(lo, float64(x)), max(hi, float64(x))
	}
	return lo, hi
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// stepClass marks a stage's element for the step-through: lit when it is the current
// stage, dimmed when another one is.
func (p *teachPage) stepClass(class string, k int) string {
	switch {
	case p.step == 0:
		return class
	case p.step == k:
		return class + " step-on"
	}
	return class + " step-off"
}

// stepper walks a class through the stages, one at a time, with the numbers.
func (p *teachPage) stepper(e *explanation) app.UI {
	move := func(d int) app.EventHandler {
		return func(ctx app.Context, ev app.Event) { p.step = max(0, min(stepCount, p.step+d)) }
	}
	return app.Div().Class("teach-stepper").ID("teach-stepper").DataSet("step", p.step).Body(
		app.Button().Class("button").ID("step-prev").Text("← Previous").Disabled(p.step <= 1).OnClick(move(-1)),
		app.Button().Class("button primary").ID("step-next").Text(map[bool]string{true: "Step through x → z → x̂ → ẑ", false: "Next →"}[p.step == 0]).
			Disabled(p.step == stepCount).OnClick(move(1)),
		app.If(p.step > 0, app.Button().Class("button subtle").ID("step-all").Text("Show all").
			OnClick(func(ctx app.Context, ev app.Event) { p.step = 0 })),
		app.If(p.step > 0, app.P().Class("step-text").ID("step-text").Text(stepText(p.step, e, p.calibration()))),
	)
}

// 1. The three stages.
func (p *teachPage) stages(e *explanation) app.UI {
	nz := len(e.Z)
	return panel("teach-stages", "1. Three networks, one after the other",
		fmt.Sprintf("Encoder 1 turns the image into %d numbers, z. The decoder rebuilds an image x̂ from z alone. Encoder 2 turns x̂ into %d numbers again, ẑ. The bars show each code's %d values, on one scale.", nz, nz, nz),
		p.stepper(e),
		app.Div().Class("teach-flow").DataSet("step", p.step).Body(
			app.Div().Class("teach-stage").Body(
				app.Figure().Class(p.stepClass("", 1)).Body(app.Img().Src(e.InputURL).Alt("input x"), app.FigCaption().Text("x, as the model sees it")),
				app.Div().Class("teach-arrow").Text("encoder 1 →"),
				app.Figure().Class(p.stepClass("wide", 2)).Body(latentStrip("teach-z", "the code z", e.Z, e.ZMaxAbs, "z"), app.FigCaption().Text("z = G_E(x)")),
			),
			app.Div().Class("teach-stage").Body(
				app.Figure().Class(p.stepClass("", 3)).Body(app.Img().Src(e.ReconURL).Alt("reconstruction x̂"), app.FigCaption().Text("x̂ = G_D(z), rebuilt from z")),
				app.Div().Class("teach-arrow").Text("encoder 2 →"),
				app.Figure().Class(p.stepClass("wide", 4)).Body(latentStrip("teach-zhat", "the code ẑ", e.ZHat, e.ZMaxAbs, "zhat"), app.FigCaption().Text("ẑ = E(x̂)")),
			),
			app.Div().Class("teach-stage").Body(
				app.Figure().Body(app.Img().Src(e.HeatURL).Alt("difference |x − x̂|"), app.FigCaption().Text("|x − x̂|")),
				app.P().Class("caption").Text("Where the rebuilt image differs from the input, dark to bright. The score does not use it: it compares the codes z and ẑ, not the images."),
			),
		),
	)
}

// 2. From z and ẑ to the score, the calibrated score and the verdict.
func (p *teachPage) distance(e *explanation, cal model.Calibration) app.UI {
	nz := len(e.Z)
	mse := e.Kind != model.ScoreL1
	termName, termHead := "(z_i − ẑ_i)²", "(z − ẑ)²"
	if !mse {
		termName, termHead = "|z_i − ẑ_i|", "|z − ẑ|"
	}
	top := min(10, nz)
	rows := make([]app.UI, 0, nz)
	for rank, d := range e.Order {
		rows = append(rows, app.Tr().DataSet("dim", d+1).DataSet("term", full(e.Terms[d])).Body(
			app.Td().Text(strconv.Itoa(rank+1)),
			app.Td().Text(strconv.Itoa(d+1)),
			app.Td().Text(g(float64(e.Z[d]))),
			app.Td().Text(g(float64(e.ZHat[d]))),
			app.Td().Text(g(e.Terms[d])),
		))
	}
	head := app.THead().Body(app.Tr().Body(app.Th().Text("rank"), app.Th().Text("dim"), app.Th().Text("z"), app.Th().Text("ẑ"), app.Th().Text(termHead)))
	num := (e.Raw - cal.Min)
	den := (cal.Max - cal.Min)
	verdict := "normal"
	if e.Anomalous {
		verdict = "anomalous"
	}
	cmpSign := "<"
	if e.Anomalous {
		cmpSign = "≥"
	}
	sumLine := []app.UI{
		app.Span().Text("Σ " + termName + " over the " + strconv.Itoa(nz) + " dimensions = "),
		app.Strong().ID("teach-sum").DataSet("value", full(e.Sum)).Text(g(e.Sum)),
	}
	rawLine := app.Li().Body(
		app.Span().Text("A(x) = "+g(e.Sum)+" ÷ "),
		app.Span().ID("teach-nz").DataSet("value", nz).Text(strconv.Itoa(nz)),
		app.Span().Text(" = "),
		app.Strong().ID("teach-raw").DataSet("value", full(e.Raw)).DataSet("worker", full(e.WorkerRaw)).Text(g(e.Raw)),
		app.Span().Class("muted").Text(" (the mean of the terms: the raw score)"),
	)
	if !mse {
		rawLine = app.Li().Body(
			app.Span().Text("A(x) = the sum itself = "),
			app.Span().ID("teach-nz").DataSet("value", 1).Hidden(true),
			app.Strong().ID("teach-raw").DataSet("value", full(e.Raw)).DataSet("worker", full(e.WorkerRaw)).Text(g(e.Raw)),
		)
	}
	return panel("teach-distance", "2. From two codes to one number",
		"Side by side, z (blue) and ẑ (orange) per dimension. Each dimension adds "+termName+" to the score; sorted, a few dimensions usually carry most of it. The mean of these terms is the raw score; the model's calibration maps it to [0, 1] and compares it with the threshold.",
		app.Div().Class("teach-charts").Body(
			pairChart("teach-pairs", e.Z, e.ZHat, e.ZMaxAbs),
			termsChart("teach-terms-chart", e),
		),
		app.P().Class("caption").Text(fmt.Sprintf("The %d largest terms (dimensions %s) carry %s of the sum.", top, dimList(e.Order[:top]), pct(e.topShare(top)))),
		app.Details().Class("teach-table").Body(
			app.Summary().Text(fmt.Sprintf("All %d terms, largest first", nz)),
			app.Div().Class("table-scroll").Body(app.Table().ID("teach-terms").Body(head, app.TBody().Body(rows...))),
		),
		app.If(!cal.Calibrated(), app.Ol().Class("teach-steps").Body(
			app.Li().Body(sumLine...),
			rawLine,
			app.Li().ID("teach-uncalibrated").Body(
				app.Span().Text("no calibrated score and no verdict: "),
				app.Strong().ID("teach-verdict").DataSet("value", "uncalibrated").Text("this model has no threshold"),
				app.Span().Class("muted").Text(" (it was imported without normal images to calibrate on; "+
					"ganomaly import --calibrate-dir gives it min, max and a threshold). Higher A(x) means more anomalous."),
			),
		)).Else(app.Ol().Class("teach-steps").Body(
			app.Li().Body(sumLine...),
			rawLine,
			app.Li().Body(
				app.Span().Text("calibrated: (A(x) − min) ÷ (max − min) = ("+g(e.Raw)+" − "+g(cal.Min)+") ÷ ("+g(cal.Max)+" − "+g(cal.Min)+") = "+g(num)+" ÷ "+g(den)+", kept within [0, 1] = "),
				app.Strong().ID("teach-score").DataSet("value", full(e.Score)).Text(strconv.FormatFloat(e.Score, 'f', 4, 64)),
			),
			app.Li().Body(
				app.Span().Text("verdict: score "+strconv.FormatFloat(e.Score, 'f', 4, 64)+" "+cmpSign+" threshold "+strconv.FormatFloat(cal.NormalizedThreshold(), 'f', 4, 64)+
					" on the 0–1 scale (raw: A(x) = "+g(e.Raw)+" "+cmpSign+" "+g(cal.Threshold)+") → "),
				app.Strong().ID("teach-verdict").Class("verdict-"+verdict).DataSet("value", verdict).Text(verdict),
			),
		),
			app.P().Class("caption").Text("min, max and threshold come with the weights: "+cal.Method+"."),
		),
	)
}

// 3. Among the test images.
func (p *teachPage) population(e *explanation, cal model.Calibration) app.UI {
	c := p.card
	if c == nil || !c.HasTest() {
		note := "This model's card has no test figures (a placeholder or an older model), so the image cannot be placed among test images."
		if p.cardNote != "" {
			note = p.cardNote
		}
		return panel("teach-population", "3. Among the test images", note)
	}
	hs := c.Histograms
	n := len(hs.Normal.Counts)
	k := max(0, min(n, p.edge))
	threshold := hs.Edge(k)
	tpr, fpr := hs.RatesAt(k)
	marker, scaleNote := e.Raw, "Scores are raw, on the scale of the calibration."
	if c.ScoreScale != "" && c.ScoreScale != card.ScaleRaw {
		marker = e.Score
		scaleNote = "This card's scores are " + c.ScoreScale + " (paper protocol); the image is placed by its calibrated score, an approximation of that scale."
	}
	calibrated := hs.Threshold
	return panel("teach-population", "3. Among the test images",
		"Green: how the test set's normal images score; red: its anomalous ones (each as a share of its class). The triangle is this image; the solid line is the threshold you choose below, the dashed one the model's. Everything right of the line is called anomalous: the share of anomalies caught is the true positive rate, the share of normal images wrongly flagged the false positive rate. "+scaleNote,
		app.Div().Class("teach-charts").Body(
			app.Div().Body(p.histogramBlock(hs, marker, threshold, calibrated, k, n, tpr, fpr, c.ScoreScale == "" || c.ScoreScale == card.ScaleRaw)...),
			app.Div().Body(
				rocChart("teach-roc", c.ROC, fpr, tpr),
				app.P().Class("caption").ID("teach-auc").DataSet("value", full(c.Test.AUC)).Text(fmt.Sprintf(
					"The ROC curve traces every threshold at once; the dot is yours. The area under it, AUC = %.3f, is the chance that a random anomalous test image scores above a random normal one (0.5 is guessing). Rates at the slider come from the card's histogram counts: exact at the bin edges the slider stops on.", c.Test.AUC)),
			),
		),
	)
}

// histogramBlock is the histogram with its slider and the rates at the slider.
func (p *teachPage) histogramBlock(hs card.Histograms, marker, threshold, calibrated float64, k, n int, tpr, fpr float64, raw bool) []app.UI {
	axis, edge := "raw score A(x)", g(threshold)
	if cal := p.calibration(); raw && cal.Calibrated() {
		// People read scores on the 0–1 scale; the chart's axis is the raw one.
		edge = strconv.FormatFloat(cal.Normalize(threshold), 'f', 4, 64) + " on the 0–1 scale (raw " + g(threshold) + ")"
	} else if !raw {
		axis = "score"
	}
	return []app.UI{
		histogramChart("teach-hist", "histogram of test scores, normal and anomalous, with this image and the threshold", axis, hs, marker, threshold, calibrated),
		app.Div().Class("teach-slider").Body(
			app.Label().For("teach-threshold").Text("threshold"),
			app.Input().ID("teach-threshold").Type("range").Min(0).Max(n).Step(1).Value(k).
				OnInput(func(ctx app.Context, ev app.Event) {
					if v, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil {
						p.edge = v
					}
				}),
			app.Output().ID("teach-edge").DataSet("value", full(threshold)).DataSet("bin", k).Text(edge),
		),
		app.P().Class("legend").Body(
			app.Span().Class("legend-normal").Text("normal test images"),
			app.Span().Class("legend-anomalous").Text("anomalous test images"),
			app.Span().Class("legend-threshold").Text("your threshold"),
			app.Span().Class("legend-model").Text("the model's threshold (dashed)"),
			app.Span().Class("legend-image").Text("this image (triangle)"),
		),
		app.Dl().Class("teach-rates").Body(
			app.Dt().Text("true positive rate (anomalies caught)"),
			app.Dd().ID("teach-tpr").DataSet("value", full(tpr)).Text(pct(tpr)),
			app.Dt().Text("false positive rate (normal images flagged)"),
			app.Dd().ID("teach-fpr").DataSet("value", full(fpr)).Text(pct(fpr)),
			app.Dt().Text("this image at this threshold"),
			app.Dd().Text(map[bool]string{true: "anomalous", false: "normal"}[marker >= threshold]),
		),
	}
}

// 4. The latent map.
func (p *teachPage) latentMap(e *explanation) app.UI {
	c := p.card
	if c == nil || !c.HasPCA() || !e.HasMap {
		return panel("teach-map-panel", "4. A map of the codes",
			"This model's card has no latent map (cards written before it was added do not): retrain, or regenerate the card, to see where this image's codes fall among the test images'.")
	}
	share := (c.PCA.Variance[0] + c.PCA.Variance[1]) / c.PCA.TotalVariance
	return panel("teach-map-panel", "4. A map of the codes",
		fmt.Sprintf("Each dot is a test image's code z, flattened from %d numbers onto the two directions in which test codes vary most (a PCA; this plane holds %s of their spread). Green: normal, red: anomalous. The blue ring is this image's z, the orange one its ẑ: the line between them is the part of their distance that this plane shows.", len(e.Z), pct(share)),
		app.Div().ID("teach-map-wrap").DataSet("points", len(c.PCA.Points)).
			DataSet("z", full(e.MapZ[0])+","+full(e.MapZ[1])).DataSet("zhat", full(e.MapZHat[0])+","+full(e.MapZHat[1])).
			Body(mapChart("teach-map", c.PCA, e.MapZ, e.MapZHat)),
	)
}

// 5. Two images side by side.
func (p *teachPage) comparison(cal model.Calibration) app.UI {
	a, b := p.a, p.b
	var options []app.UI
	for _, s := range p.others {
		if s.ID == p.subject.ID || s.Model.URL != p.model.URL {
			continue
		}
		options = append(options, app.Option().Value(s.ID).Text(s.Name+" ("+verdict(s.Anomalous)+")"))
	}
	picker := app.P().Class("teach-compare-pick").Body(
		app.If(len(options) > 0, app.Select().ID("teach-compare").OnChange(func(ctx app.Context, ev app.Event) {
			id, err := strconv.Atoi(ctx.JSSrc().Get("value").String())
			if s, ok := findSubject(id); err == nil && ok {
				p.run(ctx, s, false)
			}
		}).Body(append([]app.UI{app.Option().Value("").Text("compare with a file of the batch…")}, options...)...)),
		app.Label().Class("button").For(teachCompareInput).Text("compare with another image"),
		app.Input().ID(teachCompareInput).Class("visually-hidden").Type("file").Accept("image/*"),
	)
	if b == nil {
		note := "Drop a second image on the check page, or choose one here, to compare two images."
		if p.bNote != "" {
			note = p.bNote
		}
		return panel("teach-compare-panel", "5. Two images side by side", note, picker)
	}
	top := max(a.TermMax, b.TermMax)
	col := func(e *explanation) app.UI {
		v := verdict(e.Anomalous)
		scaled := *e
		scaled.TermMax = top
		return app.Div().Class("teach-col "+v).Body(
			app.H3().Title(e.Name).Text(e.Name),
			app.Div().Class("triptych").Body(
				figure(e.InputURL, "x", "the input"), figure(e.ReconURL, "x̂", "the reconstruction"), figure(e.HeatURL, "|x − x̂|", "the difference"),
			),
			termsChart("", &scaled),
			app.P().Class("verdict").Text(v),
		)
	}
	row := func(label string, f func(*explanation) float64) app.UI {
		return app.Tr().Body(app.Th().Text(label), app.Td().Text(g(f(a))), app.Td().Text(g(f(b))))
	}
	official, paper := "", ""
	if a.Kind == model.ScoreL1 {
		paper = " ← this model's score"
	} else {
		official = " ← this model's score"
	}
	return panel("teach-compare-panel", "5. Two images side by side",
		"The same steps for two images, the sorted terms on one scale: where the codes of the anomalous image part, its bars rise. Both distances are shown; the model scores with one of them.",
		picker,
		app.Div().Class("teach-compare").Body(col(a), col(b)),
		app.Div().Class("table-scroll").Body(app.Table().ID("teach-compare-table").Body(
			app.THead().Body(app.Tr().Body(app.Th(), app.Th().Text(a.Name), app.Th().Text(b.Name))),
			app.TBody().Body(
				row("Σ (z_i − ẑ_i)²", func(e *explanation) float64 { return e.meanSquare() * float64(len(e.Z)) }),
				row("mean (z_i − ẑ_i)²"+official, (*explanation).meanSquare),
				row("Σ |z_i − ẑ_i|"+paper, (*explanation).l1),
				row("calibrated score", func(e *explanation) float64 { return e.Score }),
			),
		)),
	)
}

// 6. The formulas.
func (p *teachPage) formulas(cal model.Calibration) app.UI {
	uses := "the official code's mean of squares"
	if cal.Score == model.ScoreL1 {
		uses = "the paper's L1 norm"
	}
	return panel("teach-formulas", "6. The formulas",
		"The paper (Akcay et al., ACCV 2018) writes the score as an L1 norm; the official code computes a mean of squares. They rank images alike more often than not, but not always.",
		app.Ul().Class("teach-formula-list").Body(
			app.Li().Body(app.Span().Text("paper: "), app.Code().Text("A(x) = ‖G_E(x) − E(G(x))‖₁ = Σᵢ |zᵢ − ẑᵢ|")),
			app.Li().Body(app.Span().Text("official code: "), app.Code().Text("A(x) = (1/nz) · Σᵢ (zᵢ − ẑᵢ)²")),
			app.Li().Body(app.Span().Text("calibrated: "), app.Code().Text("s(x) = min(1, max(0, (A(x) − min) / (max − min)))")),
			app.Li().Body(app.Span().Text("verdict: "), app.Code().Text("anomalous ⇔ A(x) ≥ threshold")),
		),
		app.P().ID("teach-uses").DataSet("score", string(cal.Score)).Text("This model uses "+uses+" ("+string(cal.Score)+")."),
	)
}

func dimList(dims []int) string {
	var b []byte
	for i, d := range dims {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(d+1), 10)
	}
	return string(b)
}
