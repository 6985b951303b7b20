package ui

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// newTestSession is a session whose model is loaded (natively there are no workers:
// the pool stays nil and jobs are fed to result by hand).
func newTestSession(t *testing.T) (*checkSession, api.Model) {
	t.Helper()
	t.Cleanup(forgetSubjects)
	// Every change told at once, on the test's goroutine (a test may set a gap).
	gap := renderGap
	renderGap = 0
	t.Cleanup(func() { renderGap = gap })
	s := &checkSession{status: modelLoading}
	m := api.Model{Name: "digits", URL: "/weights/digits.safetensors?v=1", NormalizedThreshold: 0.5}
	if _, ok := s.beginLoad(m); !ok {
		t.Fatal("the first load was refused")
	}
	s.endLoad(m, nil, "Ready.", nil)
	if v := s.view(); v.status != modelReady || v.model.URL != m.URL {
		t.Fatalf("after the load: status %v, model %q", v.status, v.model.URL)
	}
	return s, m
}

// TestSessionKeepsResultsWithoutPage: results arriving while no page is attached are
// kept, and a page attached later sees them; the detached page is not called.
func TestSessionKeepsResultsWithoutPage(t *testing.T) {
	s, m := newTestSession(t)
	calls := 0
	detach := s.attach(func() { calls++ })
	// No workers natively: the files wait for them, as before a model is ready.
	s.status = modelReady
	_, files := s.add([]fileRef{{name: "a.png", size: 10}, {name: "b.png", size: 20}})
	files = append(files, s.pending...)
	s.pending = nil
	gen := s.generation()
	s.changed()
	detach()
	detach() // twice is harmless
	if !s.result(1, gen, m, fileHandle{}, scoreResult{Raw: 0.01, Score: 0.2}) {
		t.Fatal("a result for a live item was dropped")
	}
	s.changed()
	if calls != 1 {
		t.Errorf("listener called %d times, want 1 (none after detach)", calls)
	}
	// Remount: a new page attaches and sees the first result; the second arrives.
	again := 0
	s.attach(func() { again++ })
	if !s.result(2, gen, m, fileHandle{}, scoreResult{Err: errors.New("imageio: not an image")}) {
		t.Fatal("second result dropped")
	}
	s.changed()
	v := s.view()
	if v.done != 1 || v.failed != 1 || v.total != 2 || again != 1 {
		t.Fatalf("view %+v, listener %d", v, again)
	}
	if it := v.items[0]; it.State != itemDone || it.Score != 0.2 || it.Model != "digits" || it.Threshold != 0.5 {
		t.Errorf("first item %+v", it)
	}
	if _, ok := findSubject(1); !ok {
		t.Error("the scored file is not offered to the teaching view")
	}
	if len(files) != 2 || files[0].id != 1 || files[1].id != 2 {
		t.Errorf("files %+v", files)
	}
}

// TestSessionOldDetachKeepsNewListener: when mounts overlap (the new page mounts
// before the old one dismounts), the old page's detach leaves the new listener.
func TestSessionOldDetachKeepsNewListener(t *testing.T) {
	s, _ := newTestSession(t)
	var old, cur int
	detachOld := s.attach(func() { old++ })
	s.attach(func() { cur++ })
	detachOld()
	s.changed()
	if old != 0 || cur != 1 {
		t.Errorf("old listener %d calls, new %d; want 0, 1", old, cur)
	}
}

// TestSessionClear: Clear empties the batch, hands back its images to free, drops
// late results of the cleared batch, forgets the teaching view's files, and does not
// reuse ids.
func TestSessionClear(t *testing.T) {
	s, m := newTestSession(t)
	s.add([]fileRef{{name: "a.png"}})
	gen := s.generation()
	s.result(1, gen, m, fileHandle{}, scoreResult{})
	if _, ok := s.imagesOf(1); !ok {
		t.Error("a result's images are not kept")
	}
	if images := s.clear(); len(images) != 1 {
		t.Errorf("clear returned the images of %d results, want 1", len(images))
	}
	if _, ok := s.imagesOf(1); ok {
		t.Error("the cleared result's images are still there")
	}
	if !s.stale(gen) {
		t.Error("jobs of the cleared batch are not skipped")
	}
	if s.result(1, gen, m, fileHandle{}, scoreResult{}) {
		t.Error("a late result of the cleared batch was kept")
	}
	if _, ok := findSubject(1); ok {
		t.Error("the teaching view still offers a cleared file")
	}
	s.add([]fileRef{{name: "b.png"}})
	if v := s.view(); v.total != 1 || v.items[0].ID != 2 || len(s.pending) != 1 {
		t.Errorf("after clear and a new drop: %+v, pending %d", v.items, len(s.pending))
	}
}

// TestSessionModelSwitch: no switch while files wait or a load runs; a result of the
// previous model is dropped; a failed load fails the files waiting for it.
func TestSessionModelSwitch(t *testing.T) {
	s, m := newTestSession(t)
	other := api.Model{Name: "other", URL: "/weights/other.safetensors?v=1"}
	s.add([]fileRef{{name: "a.png"}}) // waits (no workers natively): busy
	if _, ok := s.beginLoad(other); ok {
		t.Fatal("a switch was allowed while a file waits")
	}
	gen := s.generation()
	s.result(1, gen, m, fileHandle{}, scoreResult{Score: 0.1})
	s.pending = nil
	if _, ok := s.beginLoad(other); !ok {
		t.Fatal("a switch was refused when idle")
	}
	if _, ok := s.beginLoad(m); ok {
		t.Fatal("a second load was allowed while one runs")
	}
	s.add([]fileRef{{name: "b.png"}})
	if s.result(2, gen, m, fileHandle{}, scoreResult{}) {
		t.Error("a result of the previous model was kept")
	}
	s.endLoad(other, nil, "", errors.New("no weights"))
	v := s.view()
	if v.status != modelFailed || v.items[1].State != itemFailed || v.items[1].Err != "no model to score with: no weights" {
		t.Errorf("after a failed load: %v %+v", v.status, v.items[1])
	}
	if v.items[0].State != itemDone || v.items[0].Model != "digits" {
		t.Errorf("the first model's result is gone: %+v", v.items[0])
	}
}

// TestSessionCoalescesChanges: a burst of changes re-renders the page at once and
// then once more at the end of the gap, not once per change.
func TestSessionCoalescesChanges(t *testing.T) {
	s, _ := newTestSession(t)
	renderGap = 50 * time.Millisecond
	var calls atomic.Int32
	s.attach(func() { calls.Add(1) })
	s.lastNotify = time.Time{}
	for range 100 {
		s.changed()
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("after a burst of 100 changes: %d re-renders at once, want 1", n)
	}
	time.Sleep(4 * renderGap)
	if n := calls.Load(); n != 2 {
		t.Errorf("after the gap: %d re-renders in all, want 2 (the burst's last state shown)", n)
	}
}

// TestUserChangesRenderAtOnce: within the gap that holds back results' re-renders, the
// user's own changes (sort, threshold, how the batch is shown) still render at once.
func TestUserChangesRenderAtOnce(t *testing.T) {
	s, _ := newTestSession(t)
	renderGap = time.Hour
	var calls atomic.Int32
	s.attach(func() { calls.Add(1) })
	s.lastNotify = time.Time{}
	s.changed() // a result: rendered at once, and the gap starts
	s.changed() // another: waits for the gap's end
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d re-renders after two results, want 1", n)
	}
	for i, change := range []func(){s.toggleSort, func() { s.setThreshold(0.3, false) }, func() { s.setShow(true, false, false) }} {
		change()
		if n := calls.Load(); n != int32(i+2) {
			t.Errorf("user change %d: %d re-renders, want %d", i, n, i+2)
		}
	}
}

// TestRenderRevealsCardsInSteps: a render shows at most cardsPerRender cards anew;
// newly scored files held back show as they were (and are not counted finished yet),
// another file's card cuts the list, and further renders follow by themselves until
// every card shows.
func TestRenderRevealsCardsInSteps(t *testing.T) {
	s, m := newTestSession(t)
	gap := revealGap
	revealGap = time.Millisecond
	t.Cleanup(func() { revealGap = gap })
	var calls atomic.Int32
	s.attach(func() { calls.Add(1) })
	files := make([]fileRef, 50)
	s.add(files)
	gen := s.generation()
	// Dropped: the first render shows 20 waiting cards, then 40, then 50.
	for _, want := range []int{20, 40, 50} {
		if v := s.render(); len(v.items) != want {
			t.Fatalf("render after a drop of 50: %d cards, want %d", len(v.items), want)
		}
	}
	if v := s.render(); len(v.items) != 50 {
		t.Fatalf("a render with nothing new shows %d cards", len(v.items))
	}
	// All 50 scored at once: 20 cards turn at a time, and the count follows them.
	for id := 1; id <= 50; id++ {
		s.result(id, gen, m, fileHandle{}, scoreResult{Raw: float64(id), Score: float64(id) / 100})
	}
	for _, want := range []int{20, 40, 50} {
		v := s.render()
		done := 0
		for _, it := range v.items {
			if it.State == itemDone {
				done++
			}
		}
		if done != want || v.done != want || v.total != 50 {
			t.Fatalf("render after 50 results: %d cards done, %d counted of %d, want %d", done, v.done, v.total, want)
		}
	}
	if v := s.render(); !v.settled {
		t.Fatal("every card shows, yet the view is not settled")
	}
	// A threshold of 0: every verdict changes; 20 cards show it, the others keep
	// theirs a moment longer, and none leaves.
	s.setThreshold(0, false)
	v := s.render()
	anomalous := 0
	for _, it := range v.items {
		if it.Anomalous {
			anomalous++
		}
	}
	if len(v.items) != 50 || anomalous != 20 || v.done != 50 || v.settled {
		t.Fatalf("render at threshold 0: %d cards, %d anomalous, %d done, settled %v; want 50, 20, 50, false", len(v.items), anomalous, v.done, v.settled)
	}
	s.render()
	s.render()
	// Sorted: every place has another file; 20 show, then the rest.
	s.toggleSort()
	if v := s.render(); len(v.items) != 20 || v.items[0].ID != 50 {
		t.Fatalf("first render after sorting: %d cards, first %d, want 20 cards from 50 down", len(v.items), v.items[0].ID)
	}
	// The renders held back are asked for without any other change.
	before := calls.Load()
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() == before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if calls.Load() == before {
		t.Fatal("no render followed the held-back cards")
	}
	if v := s.render(); len(v.items) != 40 {
		t.Fatalf("second render after sorting: %d cards, want 40", len(v.items))
	}
}
