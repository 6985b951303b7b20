package ui

import (
	"fmt"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// fileInputID is the id of the drop zone's file picker.
const fileInputID = "file-input"

// modelStatus is where the chosen model is on its way to the workers.
type modelStatus int

const (
	modelLoading modelStatus = iota
	modelReady
	modelFailed
)

// Actions by which the page's children report the user's choices. The page handles
// them with its own context: a child's ctx.Dispatch would re-render the child only, not
// the page whose state changed.
const (
	actionPickModel = "ganomaly/pick-model" // value: the model's name
	actionSort      = "ganomaly/sort"
	actionExport    = "ganomaly/export"
	actionClear     = "ganomaly/clear"
)

// checkPage scores dropped images. The batch and the kernel workers are the
// session's (check-store.go), so that they outlive the page: a batch keeps scoring
// while the user reads the teaching view, and is shown again on return. The page
// owns what it shows about the server and the browser; its children only render and
// report clicks back as actions.
type checkPage struct {
	app.Compo

	online        bool
	serverVersion string

	models     []api.Model
	modelsNote string          // why the list may be stale
	cached     map[string]bool // weights URLs in Cache Storage

	dragging bool
	notice   string

	releases []func()
}

func (p *checkPage) OnMount(ctx app.Context) {
	if !app.IsClient {
		return
	}
	p.online = isOnline()
	ctx.Handle(actionPickModel, func(ctx app.Context, a app.Action) {
		if name, ok := a.Value.(string); ok {
			p.pickModel(ctx, name)
		}
	})
	ctx.Handle(actionSort, func(app.Context, app.Action) { session.toggleSort() })
	ctx.Handle(actionClear, func(app.Context, app.Action) { p.clear() })
	ctx.Handle(actionExport, func(app.Context, app.Action) { p.export() })
	ctx.Handle(actionThreshold, func(ctx app.Context, a app.Action) {
		if v, err := strconv.ParseFloat(fmt.Sprint(a.Value), 64); err == nil {
			session.setThreshold(v, false)
		}
	})
	ctx.Handle(actionResetThreshold, func(app.Context, app.Action) { session.setThreshold(0, true) })
	ctx.Handle(actionShow, func(ctx app.Context, a app.Action) {
		if s, ok := a.Value.(batchShow); ok {
			session.setShow(s.Table, s.OnlyAnomalous, s.More)
		}
	})
	ctx.Handle(actionSample, func(ctx app.Context, a app.Action) {
		if u, ok := a.Value.(string); ok {
			p.scoreSamples(ctx, u)
		}
	})
	// A second mount (go-app remounts on Back) replaces the first's listener; results
	// that arrive while no page is mounted wait in the session.
	p.releases = append(p.releases, session.attach(func() {
		ctx.Dispatch(func(app.Context) {}) // re-render from the session
	}))
	def, haveDef := defaultModel()
	stored := storedModels(ctx.LocalStorage())
	p.models = mergeModels(def, haveDef, withLocal(ctx.LocalStorage(), stored.Models))
	p.serverVersion = stored.ServerVersion
	var choice string
	ctx.LocalStorage().Get(storeChoice, &choice)
	if v := session.view(); v.model.URL != "" && v.status != modelFailed {
		choice = v.model.Name // the session's model stays, loaded or loading
	} else if m, ok := choose(p.models, choice); ok {
		p.loadModel(ctx, m)
	} else {
		session.fail("No model is known yet: connect to the server once.")
	}
	p.refreshModels(ctx, choice)
	// The results kept on this device come back after a reload or a closed tab.
	if gen, first := session.tryRestore(); first {
		ctx.Async(func() {
			recs, images, err := loadResults()
			if err != nil {
				fmt.Println("ganomaly: cannot read the results kept on this device:", err)
				return
			}
			if session.restore(gen, recs, images) {
				session.changed()
			}
		})
	}

	// Browser callbacks: hand over to the UI goroutine with Dispatch, and only on a
	// change (dragover fires every few milliseconds while a file hovers).
	dragging := false
	p.releases = append(p.releases,
		watchOnline(func(online bool) {
			ctx.Dispatch(func(ctx app.Context) {
				p.online = online
				if online {
					p.refreshModels(ctx, session.view().model.Name)
				}
			})
		}),
		watchFiles(fileInputID,
			func(over bool) {
				if over != dragging {
					dragging = over
					ctx.Dispatch(func(app.Context) { p.dragging = over })
				}
			},
			func(files []fileRef) {
				ctx.Dispatch(func(ctx app.Context) { p.addFiles(files) })
			}),
	)
}

// OnDismount lets go of the browser's events; the batch and its workers stay with
// the session.
func (p *checkPage) OnDismount() {
	for _, r := range p.releases {
		r()
	}
	p.releases = nil
}

// refreshModels asks the server for its models; offline, the stored list stays.
func (p *checkPage) refreshModels(ctx app.Context, choice string) {
	ctx.Async(func() {
		list, err := fetchModels()
		cached := cachedWeights()
		ctx.Dispatch(func(ctx app.Context) {
			p.cached = cached
			if err != nil {
				p.modelsNote = "Offline: models as of the last visit."
				if p.online {
					p.modelsNote = "Cannot list the server's models (" + err.Error() + "); showing those of the last visit."
				}
				return
			}
			p.modelsNote = ""
			ctx.LocalStorage().Set(storeModels, list)
			def, haveDef := defaultModel()
			p.models = mergeModels(def, haveDef, withLocal(ctx.LocalStorage(), list.Models))
			if list.ServerVersion != "" {
				p.serverVersion = list.ServerVersion
			}
			// The model in use was republished or removed: switch when idle
			// (loadModel refuses while busy or loading).
			if m, ok := choose(p.models, choice); ok && m.URL != session.view().model.URL {
				p.loadModel(ctx, m)
			}
		})
	})
}

// pickModel switches to the model named name.
func (p *checkPage) pickModel(ctx app.Context, name string) {
	m, ok := choose(p.models, name)
	if !ok || m.URL == session.view().model.URL {
		return
	}
	if p.loadModel(ctx, m) {
		ctx.LocalStorage().Set(storeChoice, m.Name)
	}
}

// loadModel fetches m's weights (Cache Storage first) and loads them into the
// session's kernel workers, starting these on first use, while the weights download.
// It reports false when the session refuses (a batch is running or a load is under
// way). The load finishes in the session even when the page is gone meanwhile.
func (p *checkPage) loadModel(ctx app.Context, m api.Model) bool {
	pl, ok := session.beginLoad(m)
	if !ok {
		return false
	}
	go func() {
		start := time.Now()
		var poolErr error
		started := make(chan struct{})
		if !pl.usable() {
			if pl != nil {
				pl.close()
			}
			go func() {
				defer close(started)
				pl, poolErr = startPool(workerCount())
			}()
		} else {
			close(started)
		}
		session.progress(m, fmt.Sprintf("getting the weights of %s (%s) and starting %d kernel worker%s", humanName(m), humanBytes(m.Size), workerCount(), plural(workerCount())))
		weights, fromCache, err := loadWeights(m)
		session.progress(m, fmt.Sprintf("starting %d kernel worker%s", workerCount(), plural(workerCount())))
		<-started
		if err == nil {
			err = poolErr
		}
		if err == nil {
			session.progress(m, "loading the model into the kernel workers")
			err = pl.load(weights)
		}
		var msg string
		if err == nil {
			from := "downloaded"
			if fromCache {
				from = "from this device's cache"
			}
			msg = fmt.Sprintf("Ready: weights %s, %d kernel worker%s (%s), %d ms.", from, pl.size(), plural(pl.size()), pl.kernel(), time.Since(start).Milliseconds())
		}
		if poolErr != nil {
			pl = nil
		}
		t, files := session.endLoad(m, pl, msg, err)
		for _, f := range files {
			submit(t, f)
		}
		session.changed()
		cached := cachedWeights()
		ctx.Dispatch(func(app.Context) { p.cached = cached }) // dropped if the page is gone
	}()
	session.changed()
	return true
}

// workerCount is how many kernel workers a batch gets: one per core, at most
// MaxWorkers.
func workerCount() int { return max(1, min(hardwareConcurrency(), MaxWorkers)) }

// addFiles gives each file a card and queues it.
func (p *checkPage) addFiles(files []fileRef) {
	t, submitNow := session.add(files)
	for _, f := range submitNow {
		submit(t, f)
	}
	session.changed()
}

// scoreSamples adds the shipped digit at url to the batch, or all of them for "".
func (p *checkPage) scoreSamples(ctx app.Context, url string) {
	var urls []string
	if url != "" {
		urls = []string{url}
	} else {
		for _, s := range Samples() {
			urls = append(urls, s.URL)
		}
	}
	ctx.Async(func() {
		files := make([]fileRef, 0, len(urls))
		for _, u := range urls {
			f, err := fetchSample(u)
			if err != nil {
				ctx.Dispatch(func(app.Context) { p.notice = "Cannot load the sample digits: " + err.Error() })
				return
			}
			files = append(files, f)
		}
		ctx.Dispatch(func(app.Context) { p.addFiles(files) })
	})
}

// submit queues f on the session's workers; the result goes to the session, whether
// a check page is mounted or not.
func submit(t ticket, f fileRef) {
	gen, m := t.gen, t.model
	t.pool.submit(job{
		file: f,
		lean: true,
		skip: func() bool { return session.stale(gen) },
		done: func(r scoreResult) {
			if !session.result(f.id, gen, m, f.handle, r) {
				return
			}
			if session.busy() {
				session.changed()
			} else {
				session.changedNow() // the batch is done: show it without waiting for the gap
			}
		},
	})
}

// clear forgets the batch and frees its images.
func (p *checkPage) clear() {
	revokeImages(session.clear())
	p.notice = ""
}

func (p *checkPage) export() {
	if err := download("ganomaly-batch.csv", "text/csv", session.csv()); err != nil {
		p.notice = "Cannot export: " + err.Error()
	}
}

func (p *checkPage) Render() app.UI {
	v := session.render()
	return app.Div().Class("app").Body(
		&appHeader{Online: p.online},
		app.Main().Class("check").Body(
			&modelPicker{
				Models:  p.models,
				Current: v.model,
				Status:  v.status,
				Message: v.message,
				Note:    p.modelsNote,
				Cached:  p.cached,
				Locked:  v.done+v.failed < v.total || v.status == modelLoading,
			},
			&dropZone{Dragging: p.dragging, Ready: v.status == modelReady, Failed: v.status == modelFailed, Status: v.message, InputID: fileInputID},
			app.If(v.model.Dataset == "mnist", &sampleStrip{AnomalyClass: v.model.AnomalyClass, Disabled: v.status != modelReady}),
			app.If(v.total > 0, &batchBar{
				Done: v.done, Failed: v.failed, Total: v.total, Anomalous: v.review.Anomalous,
				Rate: v.rate, ByScore: v.byScore, Restored: v.restored, Settled: v.settled,
			}),
			app.If(p.notice != "", app.P().Class("notice").Text(p.notice)),
			app.If(v.done > 0 && v.model.Calibration.Calibrated(), &batchReview{
				Review: v.review, ModelThr: v.model.NormalizedThreshold, Table: v.table, Only: v.onlyAnomalous,
				Hidden: v.hidden + v.capped, Shown: len(v.items),
			}),
			p.results(v),
		),
		app.Footer().Class("footer").Body(
			app.Text("GANomaly (Akcay et al., 2018) in Go. Scoring runs on this device."),
			app.If(p.serverVersion != "", app.Span().Class("version").Text(" Server "+p.serverVersion+".")),
		),
	)
}

// results shows the batch as cards, or as a table; a large batch's cards come a
// page at a time.
func (p *checkPage) results(v checkView) app.UI {
	if v.table {
		return batchTable(v.items)
	}
	return app.Div().Body(
		app.Section().Class("cards").Aria("live", "polite").Body(
			app.Range(v.items).Slice(func(i int) app.UI { return &resultCard{Item: v.items[i]} }),
		),
		app.If(v.capped > 0, app.Button().Class("button").ID("show-more").Textf("Show %d more", min(v.capped, defaultCardLimit)).OnClick(func(ctx app.Context, e app.Event) {
			ctx.NewActionWithValue(actionShow, batchShow{Table: v.table, OnlyAnomalous: v.onlyAnomalous, More: true})
		})),
	)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
