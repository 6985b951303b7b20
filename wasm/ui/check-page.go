package ui

import (
	"fmt"
	"sync/atomic"
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

// checkPage scores dropped images. It owns the state; its children only render it and
// report clicks back as actions.
type checkPage struct {
	app.Compo

	online        bool
	serverVersion string

	models       []api.Model
	modelsNote   string // why the list may be stale
	model        api.Model
	modelStatus  modelStatus
	modelMessage string
	cached       map[string]bool // weights URLs in Cache Storage
	pool         *pool

	batch   batch
	pending []fileRef // dropped before the model was ready
	// gen counts Clears and model switches: results of an older generation are
	// dropped, and so are its queued jobs.
	gen        *atomic.Int64
	byScore    bool
	dragging   bool
	batchStart time.Time
	batchLast  time.Time
	notice     string

	releases []func()
}

func (p *checkPage) OnMount(ctx app.Context) {
	p.gen = new(atomic.Int64)
	forgetSubjects() // the teaching view explains files of this page's batch only
	p.modelStatus = modelLoading
	p.modelMessage = "Starting…"
	if !app.IsClient {
		return
	}
	p.online = isOnline()
	ctx.Handle(actionPickModel, func(ctx app.Context, a app.Action) {
		if name, ok := a.Value.(string); ok {
			p.pickModel(ctx, name)
		}
	})
	ctx.Handle(actionSort, func(app.Context, app.Action) { p.byScore = !p.byScore })
	ctx.Handle(actionClear, func(app.Context, app.Action) { p.clear() })
	ctx.Handle(actionExport, func(app.Context, app.Action) { p.export() })
	def, haveDef := defaultModel()
	stored := storedModels(ctx.LocalStorage())
	p.models = mergeModels(def, haveDef, stored.Models)
	p.serverVersion = stored.ServerVersion
	var choice string
	ctx.LocalStorage().Get(storeChoice, &choice)
	if m, ok := choose(p.models, choice); ok {
		p.model = m
		p.loadModel(ctx)
	} else {
		p.modelStatus = modelFailed
		p.modelMessage = "No model is known yet: connect to the server once."
	}
	p.refreshModels(ctx, choice)

	// Browser callbacks: hand over to the UI goroutine with Dispatch, and only on a
	// change (dragover fires every few milliseconds while a file hovers).
	dragging := false
	p.releases = append(p.releases,
		watchOnline(func(online bool) {
			ctx.Dispatch(func(ctx app.Context) {
				p.online = online
				if online {
					p.refreshModels(ctx, p.model.Name)
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
				ctx.Dispatch(func(ctx app.Context) { p.addFiles(ctx, files) })
			}),
	)
}

func (p *checkPage) OnDismount() {
	for _, r := range p.releases {
		r()
	}
	p.releases = nil
	if p.pool != nil {
		p.pool.close()
		p.pool = nil
	}
	p.clear()
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
			p.models = mergeModels(def, haveDef, list.Models)
			if list.ServerVersion != "" {
				p.serverVersion = list.ServerVersion
			}
			// The model in use was republished or removed: switch when idle.
			if m, ok := choose(p.models, choice); ok && m.URL != p.model.URL && !p.busy() && p.modelStatus != modelLoading {
				p.model = m
				p.loadModel(ctx)
			}
		})
	})
}

// busy reports whether files are waiting for a result.
func (p *checkPage) busy() bool {
	done, failed, total := p.batch.counts()
	return done+failed < total
}

// pickModel switches to the model named name.
func (p *checkPage) pickModel(ctx app.Context, name string) {
	m, ok := choose(p.models, name)
	// One load at a time: two would race to install their workers.
	if !ok || m.URL == p.model.URL || p.busy() || p.modelStatus == modelLoading {
		return
	}
	ctx.LocalStorage().Set(storeChoice, m.Name)
	p.model = m
	p.loadModel(ctx)
}

// loadModel fetches p.model's weights (Cache Storage first) and loads them into the
// kernel workers, starting these on first use, while the weights download.
func (p *checkPage) loadModel(ctx app.Context) {
	m := p.model
	pl := p.pool
	p.gen.Add(1) // results of the previous model are not shown
	p.modelStatus = modelLoading
	p.modelMessage = "Loading " + m.Name + "…"
	ctx.Async(func() {
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
		weights, fromCache, err := loadWeights(m)
		<-started
		if err == nil {
			err = poolErr
		}
		if err == nil {
			err = pl.load(weights)
		}
		cached := cachedWeights()
		ctx.Dispatch(func(ctx app.Context) {
			p.cached = cached
			if poolErr == nil {
				p.pool = pl
			}
			if p.model.URL != m.URL {
				return // switched meanwhile; that load reports
			}
			if err != nil {
				p.modelStatus = modelFailed
				p.modelMessage = err.Error()
				// Files waiting for this model fail with its reason; otherwise the
				// batch would never finish and the picker would stay locked.
				for _, f := range p.pending {
					if it, ok := p.batch.get(f.id); ok {
						it.State, it.Err = itemFailed, "no model to score with: "+err.Error()
						p.batch.set(it)
					}
				}
				p.pending = nil
				return
			}
			p.modelStatus = modelReady
			from := "downloaded"
			if fromCache {
				from = "from this device's cache"
			}
			p.modelMessage = fmt.Sprintf("Ready: weights %s, %d kernel worker%s, %d ms.", from, pl.size(), plural(pl.size()), time.Since(start).Milliseconds())
			pending := p.pending
			p.pending = nil
			for _, f := range pending {
				p.submit(ctx, f)
			}
		})
	})
}

// workerCount is how many kernel workers a batch gets: one per core, at most
// MaxWorkers.
func workerCount() int { return max(1, min(hardwareConcurrency(), MaxWorkers)) }

// addFiles gives each file a card and queues it.
func (p *checkPage) addFiles(ctx app.Context, files []fileRef) {
	if !p.busy() {
		p.batchStart = time.Now()
	}
	for _, f := range files {
		f.id = p.batch.add(f.name, f.size)
		if p.modelStatus == modelFailed {
			it, _ := p.batch.get(f.id)
			it.State, it.Err = itemFailed, "no model to score with: "+p.modelMessage
			p.batch.set(it)
			continue
		}
		if p.modelStatus != modelReady {
			p.pending = append(p.pending, f)
			continue
		}
		p.submit(ctx, f)
	}
}

func (p *checkPage) submit(ctx app.Context, f fileRef) {
	gen, m, threshold := p.gen.Load(), p.model, p.model.NormalizedThreshold
	p.pool.submit(job{
		file: f,
		skip: func() bool { return p.gen.Load() != gen },
		done: func(r scoreResult) {
			ctx.Dispatch(func(ctx app.Context) {
				it, ok := p.batch.get(f.id)
				if !ok || p.gen.Load() != gen {
					revokeURLs(r.InputURL, r.ReconURL, r.HeatURL)
					return
				}
				it.Model, it.ModelVersion, it.Threshold = m.Name, m.Version(), threshold
				if r.Err != nil {
					it.State, it.Err = itemFailed, r.Err.Error()
				} else {
					it.State = itemDone
					it.Raw, it.Score, it.Anomalous = r.Raw, r.Score, r.Anomalous
					it.InputURL, it.ReconURL, it.HeatURL = r.InputURL, r.ReconURL, r.HeatURL
					p.batch.keepLatents(it.ID, r.Latents)
					rememberSubject(teachSubject{ID: it.ID, Name: it.Name, File: f.handle, Model: m, Raw: r.Raw, Anomalous: r.Anomalous})
				}
				p.batch.set(it)
				p.batchLast = time.Now()
			})
		},
	})
}

// clear forgets the batch and frees its images.
func (p *checkPage) clear() {
	if p.gen != nil {
		p.gen.Add(1)
	}
	for _, it := range p.batch.items {
		revokeURLs(it.InputURL, it.ReconURL, it.HeatURL)
	}
	p.batch = batch{}
	p.pending = nil
	p.notice = ""
	// Jobs of the cleared batch are skipped by the workers, but a model switch waits
	// for nothing now.
}

func (p *checkPage) export() {
	if err := download("ganomaly-batch.csv", "text/csv", p.batch.csv(p.byScore)); err != nil {
		p.notice = "Cannot export: " + err.Error()
	}
}

// rate is the batch's throughput so far, in images per second.
func (p *checkPage) rate() float64 {
	done, failed, _ := p.batch.counts()
	d := p.batchLast.Sub(p.batchStart).Seconds()
	if done+failed == 0 || d <= 0 {
		return 0
	}
	return float64(done+failed) / d
}

func (p *checkPage) Render() app.UI {
	done, failed, total := p.batch.counts()
	view := p.batch.view(p.byScore)
	return app.Div().Class("app").Body(
		&appHeader{Online: p.online},
		app.Main().Class("check").Body(
			&modelPicker{
				Models:  p.models,
				Current: p.model,
				Status:  p.modelStatus,
				Message: p.modelMessage,
				Note:    p.modelsNote,
				Cached:  p.cached,
				Locked:  p.busy() || p.modelStatus == modelLoading,
			},
			&dropZone{Dragging: p.dragging, Ready: p.modelStatus == modelReady, InputID: fileInputID},
			app.If(total > 0, &batchBar{
				Done: done, Failed: failed, Total: total, Anomalous: p.batch.anomalous(),
				Rate: p.rate(), ByScore: p.byScore,
			}),
			app.If(p.notice != "", app.P().Class("notice").Text(p.notice)),
			app.Section().Class("cards").Aria("live", "polite").Body(
				app.Range(view).Slice(func(i int) app.UI { return &resultCard{Item: view[i]} }),
			),
		),
		app.Footer().Class("footer").Body(
			app.Text("GANomaly (Akcay et al., 2018) in Go. Scoring runs on this device."),
			app.If(p.serverVersion != "", app.Span().Class("version").Text(" Server "+p.serverVersion+".")),
		),
	)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
