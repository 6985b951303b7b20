package ui

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// checkSession is the check page's batch and the kernel workers that score it. It
// lives for the app's lifetime, outside any component: go-app creates a fresh page
// component at each navigation and dismounts the old one, so a batch kept in the
// component was lost whenever the user opened the teaching view or the training
// dashboard and came back. Results that arrive while no check page is mounted are
// stored here and shown when one mounts again.
//
// Everything is guarded by mu: results arrive on the workers' goroutines, clicks on
// the UI goroutine. The mounted page learns of changes through the function it
// attached, which must only hand over to its own UI goroutine (ctx.Dispatch).
type checkSession struct {
	mu sync.Mutex

	batch batch
	// images are the scored items' images by id, as JavaScript strings (see
	// scoreResult.Images).
	images  map[int][3]jsString
	pending []fileRef // dropped before the model was ready
	// gen counts Clears and model switches: results of an older generation are
	// dropped, and so are its queued jobs.
	gen     int64
	byScore bool
	// threshold is the user's threshold on the [0, 1] scale when custom is set;
	// otherwise each result keeps the model's verdict.
	threshold float64
	custom    bool
	// How the batch is shown: as a table instead of cards, anomalous items only,
	// and how many cards at most (a large batch grows by "Show more").
	table, onlyAnomalous bool
	cardLimit            int
	// restoreTried is set once the kept results were asked for; restored counts
	// those put back.
	restoreTried bool
	restored     int
	batchStart   time.Time
	batchLast    time.Time

	model   api.Model
	status  modelStatus
	message string
	started bool // a model was chosen once: a new page mount keeps it
	pool    *pool

	// listener is the mounted check page's; token tells an old page's detach from
	// the current one's when mounts overlap.
	listener func()
	token    int
	// A change is told at once when the page was last told longer than
	// renderGap ago; changes within the gap are told once, at its end.
	notifyPending bool
	lastNotify    time.Time
	// shown is what the last render showed, card by card (see render).
	shown []item
}

// renderGap is the shortest time between two re-renders of the page that results
// ask for. Results of a large drop arrive hundreds a second, and a re-render of the
// page per result kept the UI thread busy (the batch ran at a fraction of the
// kernels' speed, and clicks waited seconds); four re-renders a second show the
// same progress. The user's own changes (sort, threshold, how the batch is shown)
// render at once (changedNow).
var renderGap = 250 * time.Millisecond // a variable for the tests

// session is the one check session of the page.
var session = &checkSession{status: modelLoading, message: "Starting…"}

// attach makes fn the one function told of changes, replacing any earlier page's,
// and returns what detaches it. Detaching twice, or after another page attached,
// does nothing.
func (s *checkSession) attach(fn func()) (detach func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token++
	tok := s.token
	s.listener = fn
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.token == tok {
			s.listener = nil
			s.shown = nil // the cards went with the page; the next one shows them anew
		}
	}
}

// changed tells the attached page, if any, outside the lock: at once, or at the end
// of the current renderGap when the page was told less than that ago.
func (s *checkSession) changed() {
	s.mu.Lock()
	if s.notifyPending {
		s.mu.Unlock()
		return
	}
	s.notifyPending = true
	wait := renderGap - time.Since(s.lastNotify)
	s.mu.Unlock()
	if wait <= 0 {
		s.notify()
		return
	}
	time.AfterFunc(wait, s.notify)
}

// changedNow tells the attached page at once: the user's own changes must show
// without waiting for the gap (a click answered within a frame). A re-render
// already planned for the gap's end still comes.
func (s *checkSession) changedNow() {
	s.mu.Lock()
	fn := s.listener
	s.lastNotify = time.Now()
	s.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (s *checkSession) notify() {
	s.mu.Lock()
	fn := s.listener
	s.notifyPending = false
	s.lastNotify = time.Now()
	s.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// checkView is what the page renders, copied under the lock.
type checkView struct {
	// items are the items shown (at the batch's threshold, filtered, in display
	// order); hidden counts those the filter leaves out, capped those beyond the
	// cards shown.
	items                []item
	hidden, capped       int
	done, failed, total  int
	rate                 float64
	byScore              bool
	table, onlyAnomalous bool
	restored             int
	review               review
	// settled is false while cards are held back for the next frames (render).
	settled bool
	model   api.Model
	status  modelStatus
	message string
}

// defaultCardLimit is how many cards a batch shows before "Show more": a thousand
// cards of three images each make a page tens of thousands of pixels long.
const defaultCardLimit = 60

// judgedLocked is the batch in display order at its threshold.
func (s *checkSession) judgedLocked() []item {
	return judged(s.batch.view(s.byScore), s.thresholdLocked(), s.custom)
}

// thresholdLocked is the batch's threshold on the [0, 1] scale.
func (s *checkSession) thresholdLocked() float64 {
	if s.custom {
		return s.threshold
	}
	return s.model.NormalizedThreshold
}

func (s *checkSession) view() checkView {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.judgedLocked()
	v := checkView{byScore: s.byScore, table: s.table, onlyAnomalous: s.onlyAnomalous, restored: s.restored,
		model: s.model, status: s.status, message: s.message}
	v.review = reviewOf(all, s.thresholdLocked(), s.custom, s.model.AnomalyClass)
	for _, it := range all {
		if s.onlyAnomalous && !(it.State == itemDone && it.Anomalous) {
			v.hidden++
			continue
		}
		v.items = append(v.items, it)
	}
	if limit := max(s.cardLimit, defaultCardLimit); !s.table && len(v.items) > limit {
		v.capped = len(v.items) - limit
		v.items = v.items[:limit]
	}
	v.done, v.failed, v.total = s.batch.counts()
	if d := s.batchLast.Sub(s.batchStart).Seconds(); v.done+v.failed > 0 && d > 0 {
		v.rate = float64(v.done+v.failed) / d
	}
	return v
}

// cardsPerRender is how many cards a render may show anew (a scored file's card, or
// another file's card at a place) before the rest wait for the next frames: a card
// costs the page's thread about 1.5 ms to build, lay out and paint, and 60 at once
// (a large drop's first results, a sort) made a task of over 100 ms, during which a
// click waits.
const cardsPerRender = 20

// revealGap is how soon the cards held back by a render follow.
var revealGap = 30 * time.Millisecond

// render is the view a render of the page shows: view, with at most cardsPerRender
// cards new at their place since the last render. Beyond that, a card of the same
// file shows as it was (a newly scored file's card still waiting, and left out of the
// batch's count until it shows; an older verdict), and a card of another file (a
// sort, a filter, results moving the cards of a sorted batch) cuts the list there.
// Another render follows after revealGap, until the view is settled. (In a sorted
// batch still scoring, that keeps the list's end moving and renders every revealGap;
// showing moved cards at once instead made tasks of 150-240 ms there.)
func (s *checkSession) render() checkView {
	v := s.view()
	s.mu.Lock()
	held, budget := 0, cardsPerRender
	for p := range v.items {
		it := v.items[p]
		if p < len(s.shown) && s.shown[p] == it {
			continue
		}
		if budget > 0 {
			budget--
			continue
		}
		if p < len(s.shown) && s.shown[p].ID == it.ID {
			old := s.shown[p]
			v.items[p] = old
			held++
			switch {
			case old.State != itemQueued:
			case it.State == itemDone:
				v.done--
			case it.State == itemFailed:
				v.failed--
			}
			continue
		}
		held += len(v.items) - p
		v.items = v.items[:p]
		break
	}
	v.settled = held == 0
	s.shown = slices.Clone(v.items)
	follow := held > 0 && !s.notifyPending
	if follow {
		s.notifyPending = true
	}
	s.mu.Unlock()
	if follow {
		time.AfterFunc(revealGap, s.notify)
	}
	return v
}

// busyLocked reports whether files are waiting for a result.
func (s *checkSession) busyLocked() bool {
	done, failed, total := s.batch.counts()
	return done+failed < total
}

func (s *checkSession) busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busyLocked()
}

// csv exports the whole batch in the order shown, at its threshold.
func (s *checkSession) csv() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return itemsCSV(s.judgedLocked())
}

// setThreshold sets the batch's threshold on the [0, 1] scale; reset goes back to
// the model's.
func (s *checkSession) setThreshold(v float64, reset bool) {
	s.mu.Lock()
	s.threshold, s.custom = min(1, max(0, v)), !reset
	s.mu.Unlock()
	s.changedNow()
}

// setShow sets how the batch is shown; more adds a page of cards.
func (s *checkSession) setShow(table, onlyAnomalous, more bool) {
	s.mu.Lock()
	if table != s.table {
		s.shown = nil // rows and cards are different elements
	}
	s.table, s.onlyAnomalous = table, onlyAnomalous
	if more {
		s.cardLimit = max(s.cardLimit, defaultCardLimit) + defaultCardLimit
	}
	s.mu.Unlock()
	s.changedNow()
}

func (s *checkSession) toggleSort() {
	s.mu.Lock()
	s.byScore = !s.byScore
	s.mu.Unlock()
	s.changedNow()
}

// add gives each file a card and returns those to submit now, with the ticket to
// submit them under; the others wait for the model or fail with the reason it has
// none.
func (s *checkSession) add(files []fileRef) (t ticket, submit []fileRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t = s.ticketLocked()
	if !s.busyLocked() {
		s.batchStart = time.Now()
	}
	for _, f := range files {
		f.id = s.batch.add(f.name, f.size)
		switch {
		case s.status == modelFailed:
			it, _ := s.batch.get(f.id)
			it.State, it.Err = itemFailed, "no model to score with: "+s.message
			s.batch.set(it)
		case s.status != modelReady || s.pool == nil:
			s.pending = append(s.pending, f)
		default:
			submit = append(submit, f)
		}
	}
	return t, submit
}

// ticket is what jobs submitted together share: the workers, the model and the
// generation they belong to.
type ticket struct {
	pool  *pool
	model api.Model
	gen   int64
}

func (s *checkSession) ticketLocked() ticket { return ticket{s.pool, s.model, s.gen} }

// generation is the current generation.
func (s *checkSession) generation() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

// stale reports whether a job of generation gen was overtaken by a Clear or a model
// switch.
func (s *checkSession) stale(gen int64) bool { return s.generation() != gen }

// result stores one file's result when its generation and its item are still there;
// it returns false when the result was dropped (the caller frees its images).
func (s *checkSession) result(id int, gen int64, m api.Model, f fileHandle, r scoreResult) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.batch.get(id)
	if !ok || s.gen != gen {
		return false
	}
	it.Model, it.ModelVersion, it.Threshold = m.Name, m.Version(), m.NormalizedThreshold
	if r.Err != nil {
		it.State, it.Err = itemFailed, r.Err.Error()
	} else {
		it.State = itemDone
		it.Raw, it.Score, it.Anomalous, it.ScopeNote = r.Raw, r.Score, r.Anomalous, r.ScopeNote
		it.Uncalibrated = !m.Calibration.Calibrated()
		s.setImages(it.ID, r.Images)
		rememberSubject(teachSubject{ID: it.ID, Name: it.Name, File: f, Model: m, Raw: r.Raw, Anomalous: r.Anomalous})
	}
	s.batch.set(it)
	s.batchLast = time.Now()
	rec := storedResult{ID: it.ID, Name: it.Name, Size: it.Size, Failed: it.State == itemFailed, Err: it.Err, Model: m,
		Raw: it.Raw, Score: it.Score, Anomalous: it.Anomalous, Uncalibrated: it.Uncalibrated, Threshold: it.Threshold, ScopeNote: it.ScopeNote}
	go func() {
		if err := saveResult(rec, r.Images); err != nil && !errors.Is(err, errNotBrowser) {
			fmt.Println("ganomaly: cannot keep a result on this device:", err)
		}
	}()
	return true
}

// forgetKept forgets the results kept on the device.
func forgetKept() {
	if err := clearResults(); err != nil && !errors.Is(err, errNotBrowser) {
		fmt.Println("ganomaly: cannot forget the kept results:", err)
	}
}

// keptImages are a kept result's images: the URLs its card shows, and the input as
// the model saw it, which the teaching view scores again (a data: URL, or a Blob in
// records kept before the images were kept as data: URLs).
type keptImages struct {
	URLs  [3]jsString
	Input fileHandle
}

// storedResult is what the device keeps of one result (its three images apart), so
// that the batch survives a reload (results-store_js.go).
type storedResult struct {
	ID           int       `json:"id"`
	Name         string    `json:"name"`
	Size         int64     `json:"size"`
	Failed       bool      `json:"failed,omitempty"`
	Err          string    `json:"error,omitempty"`
	Model        api.Model `json:"model"`
	Raw          float64   `json:"raw"`
	Score        float64   `json:"score"`
	Anomalous    bool      `json:"anomalous,omitempty"`
	Uncalibrated bool      `json:"uncalibrated,omitempty"`
	Threshold    float64   `json:"threshold"`
	ScopeNote    string    `json:"scope_note,omitempty"`
}

// tryRestore reports whether the kept results are still to be asked for (once per
// app session), and marks them asked.
func (s *checkSession) tryRestore() (gen int64, first bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first = !s.restoreTried
	s.restoreTried = true
	return s.gen, first
}

// restore puts back the results kept on the device, once per app session, into an
// empty batch of generation gen (files dropped meanwhile win, a Clear meanwhile
// stands). It reports whether it did.
func (s *checkSession) restore(gen int64, recs []storedResult, images []keptImages) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(recs) == 0 || s.gen != gen {
		return false // nothing kept, or cleared (or another model chosen) meanwhile
	}
	if len(s.batch.items) > 0 {
		// Files came first: the new batch wins, and the kept results, which its ids
		// would overwrite one by one, are forgotten whole.
		go forgetKept()
		return false
	}
	for i, r := range recs {
		it := item{ID: r.ID, Name: r.Name, Size: r.Size, State: itemDone, Err: r.Err, Model: r.Model.Name, ModelVersion: r.Model.Version(),
			Raw: r.Raw, Score: r.Score, Anomalous: r.Anomalous, Uncalibrated: r.Uncalibrated, Threshold: r.Threshold, ScopeNote: r.ScopeNote}
		if r.Failed {
			it.State = itemFailed
		} else {
			s.setImages(it.ID, images[i].URLs)
			// The input as the model saw it is what the teaching view runs again.
			rememberSubject(teachSubject{ID: it.ID, Name: it.Name, File: images[i].Input, Model: r.Model, Raw: r.Raw, Anomalous: r.Anomalous})
		}
		s.batch.items = append(s.batch.items, it)
		s.batch.nextID = max(s.batch.nextID, it.ID)
	}
	s.restored = len(recs)
	return true
}

// setImages records the images of item id.
func (s *checkSession) setImages(id int, images [3]jsString) {
	if s.images == nil {
		s.images = map[int][3]jsString{}
	}
	s.images[id] = images
}

// imagesOf returns the images of item id, and whether it has them.
func (s *checkSession) imagesOf(id int) ([3]jsString, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.images[id]
	return im, ok
}

// clear forgets the batch and returns its images to free (blob: URLs of results
// kept by an earlier version). Jobs of the cleared batch are skipped by the workers.
func (s *checkSession) clear() (images [][3]jsString) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	for _, im := range s.images {
		images = append(images, im)
	}
	s.images = nil
	// The ids go on from where they were: a teaching view opened from a card of the
	// cleared batch must not find another file under the same id.
	s.batch = batch{nextID: s.batch.nextID}
	s.pending = nil
	s.custom, s.cardLimit, s.restored = false, 0, 0
	go forgetKept()
	forgetSubjects() // the teaching view explains files of the current batch only
	return images
}

// beginLoad starts switching to model m unless a load is under way or files wait for
// a result (one model scores a batch; two loads would race to install their workers).
// It returns the workers to load into (nil: start new ones).
func (s *checkSession) beginLoad(m api.Model) (pl *pool, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started && (s.status == modelLoading || s.busyLocked()) {
		return nil, false
	}
	s.started = true
	s.gen++ // results of the previous model are not shown
	s.model = m
	s.custom = false // a threshold belongs to its model
	s.status, s.message = modelLoading, "Loading "+m.Name+"…"
	return s.pool, true
}

// endLoad records how loading m went and returns the pending files to submit now.
// pl, when not nil, are the workers started (kept even when loading failed).
func (s *checkSession) endLoad(m api.Model, pl *pool, message string, err error) (t ticket, submit []fileRef) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pl != nil {
		s.pool = pl
	}
	t = s.ticketLocked()
	if s.model.URL != m.URL {
		return t, nil // switched meanwhile; that load reports
	}
	if err != nil {
		s.status, s.message = modelFailed, err.Error()
		// Files waiting for this model fail with its reason; otherwise the batch
		// would never finish and the picker would stay locked.
		for _, f := range s.pending {
			if it, ok := s.batch.get(f.id); ok {
				it.State, it.Err = itemFailed, "no model to score with: "+err.Error()
				s.batch.set(it)
			}
		}
		s.pending = nil
		return t, nil
	}
	s.status, s.message = modelReady, message
	if s.pool == nil {
		return t, nil // cannot happen: a load without workers fails
	}
	submit, s.pending = s.pending, nil
	return t, submit
}

// progress says what the load of m is doing, while it is the model being loaded.
func (s *checkSession) progress(m api.Model, what string) {
	s.mu.Lock()
	if s.model.URL == m.URL && s.status == modelLoading {
		s.message = "Getting ready: " + what + "…"
	}
	s.mu.Unlock()
	s.changed()
}

// fail says why no model can be loaded.
func (s *checkSession) fail(message string) {
	s.mu.Lock()
	s.status, s.message = modelFailed, message
	s.mu.Unlock()
	s.changed()
}
