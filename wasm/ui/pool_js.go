//go:build js && wasm

package ui

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hack-pad/safejs"
)

// pool is a set of kernel workers (web/worker.js running wasm/worker) that share one
// queue of jobs: a worker takes the next jobs (a few calls of a few images each, see
// take) as it finishes the last, so a slow image does not hold the others back. The
// workers outlive a model switch: a new model is loaded into them (starting a worker
// costs more than loading weights). A worker that crashes (its program runs out of
// memory) is replaced, up to maxReplacements times.
type pool struct {
	jobs  chan job
	alive atomic.Int32 // workers serving, and replacements being started

	mu           sync.Mutex
	workers      []*worker
	weights      weightsHandle // the model loaded, for replacements
	model        int           // counts loads: a replacement loads again if one came meanwhile
	replacements int           // started, in all
	starting     int           // being started now
	closed       bool
}

// maxReplacements bounds the workers a pool starts in place of crashed ones, so that a
// browser that kills every worker does not start them forever.
const maxReplacements = 8

// worker is one Web Worker and the replies it has posted.
type worker struct {
	js      safejs.Value
	release func()
	replies chan reply
	// calls lets scoring calls overlap (callsPerWorker of them, so that the worker
	// starts the next while the page takes in the last results) but makes a load (a
	// model switch) wait for the calls at hand, and them for it.
	calls sync.RWMutex
	// mu guards the calls waiting for their replies, by id; route hands replies on.
	mu      sync.Mutex
	nextID  int
	waiting map[int]chan reply
	dead    atomic.Bool
	// gone is closed when the worker is terminated: route stops.
	gone chan struct{}
	// kernel is "simd" or "scalar": which kernels worker.js chose for this browser.
	kernel string
}

type reply struct {
	data  safejs.Value
	fatal error // the worker could not start or crashed
}

// How long a worker may take to start (download and compile worker.wasm, on a slow
// phone) and to load weights or answer one call (a few images, maybe behind its
// other calls) before it counts as broken.
const (
	workerStartTimeout = 2 * time.Minute
	workerCallTimeout  = 2 * time.Minute
)

// startPool starts n workers in parallel. It fails only when none starts; fewer
// workers than asked just make batches slower.
func startPool(n int) (*pool, error) {
	workers, err := startWorkers(n)
	if err != nil {
		return nil, err
	}
	p := &pool{jobs: make(chan job, 1<<16), workers: workers}
	p.alive.Store(int32(len(p.workers)))
	for _, w := range p.workers {
		// Scoring calls wait for their replies by id; a training worker
		// (here-browser_js.go) reads its replies itself.
		go w.route()
		go p.serve(w)
	}
	return p, nil
}

// load gives every live worker the weights, in parallel. Workers that fail to load
// are dropped; it fails when none is left.
func (p *pool) load(weights weightsHandle) error {
	p.mu.Lock()
	p.weights = weights
	p.model++
	workers := append([]*worker(nil), p.workers...)
	starting := p.starting
	p.mu.Unlock()
	errs := make(chan error, len(workers))
	n := 0
	for _, w := range workers {
		if w.dead.Load() {
			continue
		}
		n++
		go func() { errs <- w.load(weights) }()
	}
	var firstErr error
	ok := 0
	for range n {
		if err := <-errs; err != nil {
			firstErr = cmpErr(firstErr, err)
		} else {
			ok++
		}
	}
	if ok == 0 && starting == 0 {
		if firstErr == nil {
			firstErr = errors.New("no kernel worker is running; reload the page")
		}
		return firstErr
	}
	return nil // a replacement being started loads these weights itself
}

// kernel says which kernels the workers run: "SIMD" or "scalar".
func (p *pool) kernel() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.workers {
		if w.kernel == "scalar" {
			return "scalar"
		}
	}
	return "SIMD"
}

// forcedKernel is localStorage's "ganomaly.kernel" ("simd" or "scalar"), which makes
// every worker use those kernels whatever the browser supports: for tests, and to
// compare the two.
func forcedKernel() string {
	if s := localSetting("ganomaly.kernel"); s == "simd" || s == "scalar" {
		return s
	}
	return ""
}

// localSetting is localStorage's item key, or "" when there is none.
func localSetting(key string) string {
	ls, err := safejs.Global().Get("localStorage")
	if err != nil {
		return ""
	}
	v, err := ls.Call("getItem", key)
	if err != nil || v.IsNull() || v.IsUndefined() {
		return ""
	}
	s, _ := v.String()
	return s
}

// size is the number of live workers.
func (p *pool) size() int { return int(p.alive.Load()) }

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// submit queues a job; it never blocks the caller.
func (p *pool) submit(j job) {
	select {
	case p.jobs <- j:
	default:
		go func() { p.jobs <- j }()
	}
}

// resubmit queues a job again for the other workers; false when the pool was closed
// meanwhile (its jobs channel then refuses it).
func (p *pool) resubmit(j job) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	select {
	case p.jobs <- j:
		return true
	default:
	}
	go func() {
		defer func() {
			if recover() != nil {
				j.done(scoreResult{Err: errWorkerDead})
			}
		}()
		p.jobs <- j
	}()
	return true
}

// close stops the workers once the queued jobs are done.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.weights = weightsHandle{}
	p.mu.Unlock()
	close(p.jobs)
}

// usable reports whether any worker is alive.
func (p *pool) usable() bool { return p != nil && p.alive.Load() > 0 }

// startWorker starts a kernel worker and waits until its program runs. The first
// workers of a pool or a training get the tests' knob that makes a worker's program
// exit (localStorage "ganomaly.exitAfter", see web/worker.js); a replacement does not.
func startWorker(first bool) (*worker, error) {
	script, sep := WorkerScript, "?"
	if k := forcedKernel(); k != "" {
		script, sep = script+sep+"kernel="+k, "&"
	}
	if n, err := strconv.Atoi(localSetting("ganomaly.exitAfter")); first && err == nil && n > 0 {
		script += sep + "exitAfter=" + strconv.Itoa(n)
	}
	js, err := construct("Worker", script)
	if err != nil {
		return nil, fmt.Errorf("starting a Web Worker: %w", err)
	}
	w := &worker{js: js, replies: make(chan reply, 16), waiting: map[int]chan reply{}, gone: make(chan struct{})}
	// Callbacks run on the browser's event loop: hand the message over without
	// blocking, whatever the consumer is doing.
	push := func(r reply) {
		select {
		case w.replies <- r:
		default:
			go func() { w.replies <- r }()
		}
	}
	r1 := listen(js, "message", func(e safejs.Value) {
		data, _ := e.Get("data")
		if getString(data, "type") == "fatal" {
			// It could not start, or its program stopped (a crash).
			push(reply{fatal: errors.New(getString(data, "error"))})
			return
		}
		push(reply{data: data})
	})
	r2 := listen(js, "error", func(e safejs.Value) {
		e.Call("preventDefault")
		push(reply{fatal: fmt.Errorf("the kernel worker failed: %v", jsError(e))})
	})
	w.release = func() { r1(); r2() }
	select {
	case r := <-w.replies:
		if r.fatal != nil {
			w.terminate()
			return nil, r.fatal
		}
		if getString(r.data, "type") == "ready" {
			w.kernel = getString(r.data, "kernel")
			return w, nil
		}
		w.terminate()
		return nil, fmt.Errorf("the kernel worker sent %q before it was ready", getString(r.data, "type"))
	case <-time.After(workerStartTimeout):
		w.terminate()
		return nil, fmt.Errorf("the kernel worker did not start within %v", workerStartTimeout)
	}
}

// terminate stops the worker; the calls still waiting for a reply fail at once.
func (w *worker) terminate() {
	if w.dead.Swap(true) {
		return
	}
	w.js.Call("terminate")
	w.release()
	close(w.gone)
	w.mu.Lock()
	for id, ch := range w.waiting {
		ch <- reply{fatal: errors.New("it was stopped")}
		delete(w.waiting, id)
	}
	w.mu.Unlock()
}

// callsPerWorker is how many calls a worker has in flight. A worker runs its messages
// one after the other, and gets the next only when the page has taken in a result:
// with one score in flight, and then two, the workers waited for the page half the
// time during a large drop (the page renders a few times a second, tens of
// milliseconds each, and keeps results).
const callsPerWorker = 3

// imagesPerCall is how many images one call scores at most: those queued when the
// call starts. A batch makes wider matrix products (in WebAssembly, a batch of 64
// takes 0.7 of the time per image of one image alone: make bench-peers) and one reply
// for the page to take in instead of many.
const imagesPerCall = 8

// bytesPerCall bounds the files of one call, which the worker holds at once: a few
// photos, or a call of one when a file is larger.
const bytesPerCall = 16 << 20

// take waits for the next job that is still wanted and adds those queued behind it,
// up to limit and up to bytesPerCall of files; nil when the queue is closed. (Capping
// a call at its share of the queue, so that a small drop splits evenly, cost a 100-
// digit drop 15 % of its speed.)
func (p *pool) take(limit int) []job {
	var jobs []job
	wanted := func(j job) bool { return j.skip == nil || !j.skip() }
	for j := range p.jobs {
		if wanted(j) {
			jobs = append(jobs, j)
			break
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	bytes := jobs[0].file.size
	for len(jobs) < limit && bytes < bytesPerCall {
		select {
		case j, ok := <-p.jobs:
			if !ok {
				return jobs
			}
			if wanted(j) {
				jobs = append(jobs, j)
				bytes += j.file.size
			}
		default:
			return jobs
		}
	}
	return jobs
}

// route hands each reply to the call waiting for its id (a late reply to a call that
// timed out goes nowhere); a crash fails every waiting call.
func (w *worker) route() {
	for {
		var r reply
		select {
		case r = <-w.replies:
		case <-w.gone:
			return
		}
		w.mu.Lock()
		if r.fatal != nil {
			for id, ch := range w.waiting {
				ch <- r
				delete(w.waiting, id)
			}
			w.mu.Unlock()
			continue
		}
		id := int(getFloat(r.data, "id"))
		ch := w.waiting[id]
		delete(w.waiting, id)
		w.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// call posts a message and waits for the reply with the same id.
func (w *worker) call(msg map[string]any, transfer []any) (safejs.Value, error) {
	w.mu.Lock()
	if w.dead.Load() {
		w.mu.Unlock()
		return safejs.Value{}, fmt.Errorf("%w earlier", errWorkerDead)
	}
	w.nextID++
	id := w.nextID
	ch := make(chan reply, 1)
	w.waiting[id] = ch
	w.mu.Unlock()
	forget := func() {
		w.mu.Lock()
		delete(w.waiting, id)
		w.mu.Unlock()
	}
	msg["id"] = id
	var err error
	if transfer != nil {
		_, err = w.js.Call("postMessage", msg, transfer)
	} else {
		_, err = w.js.Call("postMessage", msg)
	}
	if err != nil {
		forget()
		return safejs.Value{}, fmt.Errorf("posting to the kernel worker: %w", err)
	}
	select {
	case r := <-ch:
		if r.fatal != nil {
			return safejs.Value{}, fmt.Errorf("%w: %w", errWorkerDead, r.fatal)
		}
		if e := getString(r.data, "error"); e != "" {
			return r.data, errors.New(e)
		}
		return r.data, nil
	case <-time.After(workerCallTimeout):
		forget()
		return safejs.Value{}, fmt.Errorf("%w: it did not answer within %v", errWorkerDead, workerCallTimeout)
	}
}

// load gives the worker its own copy of the weights (transferred, so the copy costs
// one memcpy and no structured clone).
func (w *worker) load(weights weightsHandle) error {
	w.calls.Lock()
	defer w.calls.Unlock()
	copy, err := weights.Call("slice", 0)
	if err != nil {
		return err
	}
	_, err = w.call(map[string]any{"type": "load", "weights": copy}, []any{copy})
	if err != nil {
		if errors.Is(err, errWorkerDead) {
			w.terminate()
		}
		return fmt.Errorf("loading the model: %w", err)
	}
	return nil
}

// serve runs jobs on w until the queue closes, then stops the worker, with
// callsPerWorker calls in flight, each of up to imagesPerCall jobs. A worker that
// crashes or hangs is dropped, and replaced (replace); meanwhile the others take the
// remaining jobs. The jobs of its calls in flight fail (one of them may be what broke
// the worker, and must not break the next one), which is up to
// callsPerWorker·imagesPerCall files. A file's own errors come back as that file's
// error and never break a worker. When no worker is left, every job fails at once
// with the reason instead of waiting.
func (p *pool) serve(w *worker) {
	var died sync.Once
	die := func(cause error) {
		died.Do(func() {
			w.terminate()
			go p.replace(w, cause)
		})
	}
	var wg sync.WaitGroup
	for range callsPerWorker {
		wg.Go(func() {
			for {
				jobs := p.take(imagesPerCall)
				if jobs == nil {
					return // closed
				}
				if w.dead.Load() {
					// It died meanwhile (a failed load, or another call): another
					// worker takes the jobs, or they fail when none is left.
					die(errWorkerDead)
					for _, j := range jobs {
						if p.alive.Load() == 0 || !p.resubmit(j) {
							j.done(scoreResult{Err: errWorkerDead})
						}
					}
					return
				}
				rs := w.score(jobs)
				for i, j := range jobs {
					j.done(rs[i])
				}
				if errors.Is(rs[0].Err, errWorkerDead) {
					die(rs[0].Err)
					return
				}
			}
		})
	}
	wg.Wait()
	w.terminate()
}

// replace starts a worker in place of w, which died of cause, and loads the model
// into it; while it starts it counts as alive, so that the queued jobs wait for it.
// Past maxReplacements, or when it fails to start, w is simply gone, and when no
// worker is left every queued job fails.
func (p *pool) replace(w *worker, cause error) {
	p.mu.Lock()
	for i, x := range p.workers {
		if x == w {
			p.workers = append(p.workers[:i], p.workers[i+1:]...)
			break
		}
	}
	again := p.replacements < maxReplacements && !p.closed
	if again {
		p.replacements++
		p.starting++
	}
	p.mu.Unlock()
	if again {
		nw, err := p.startReplacement()
		p.mu.Lock()
		p.starting--
		p.mu.Unlock()
		if err == nil {
			go p.serve(nw)
			return
		}
		cause = fmt.Errorf("%w, and its replacement failed: %w", cause, err)
	}
	if p.alive.Add(-1) == 0 {
		for j := range p.jobs {
			j.done(scoreResult{Err: fmt.Errorf("no kernel worker is left (%w); reload the page", cause)})
		}
	}
}

// startReplacement starts a worker, loads the pool's model into it (again if another
// came meanwhile) and adds it to the pool.
func (p *pool) startReplacement() (*worker, error) {
	w, err := startWorker(false)
	if err != nil {
		return nil, err
	}
	go w.route() // the load's reply comes through it
	for {
		p.mu.Lock()
		weights, model, closed := p.weights, p.model, p.closed
		p.mu.Unlock()
		if closed {
			// The page has left: the pool's queue is closed, nothing to serve.
			w.terminate()
			return nil, errors.New("the page closed the pool")
		}
		if model > 0 {
			if err := w.load(weights); err != nil {
				w.terminate()
				return nil, err
			}
		}
		p.mu.Lock()
		if p.model == model {
			p.workers = append(p.workers, w)
			p.mu.Unlock()
			return w, nil
		}
		p.mu.Unlock()
	}
}

// errWorkerDead marks errors after which a worker is not used again.
var errWorkerDead = errors.New("the kernel worker stopped")

// score scores the jobs' files in one call and returns their results in order; an
// error of the call is every job's.
func (w *worker) score(jobs []job) []scoreResult {
	files := make([]any, len(jobs))
	lean := true
	for i, j := range jobs {
		files[i] = j.file.handle
		lean = lean && j.lean
	}
	rs := make([]scoreResult, len(jobs))
	w.calls.RLock()
	data, err := w.call(map[string]any{"type": "scoreMany", "files": files, "lean": lean}, nil)
	w.calls.RUnlock()
	if err != nil {
		for i := range rs {
			rs[i].Err = err
		}
		return rs
	}
	list := mustGet(data, "results")
	for i := range rs {
		r, _ := list.Index(i)
		rs[i] = resultOf(r)
	}
	return rs
}

// resultOf reads one image's reply.
func resultOf(data safejs.Value) scoreResult {
	if e := getString(data, "error"); e != "" {
		return scoreResult{Err: errors.New(e)}
	}
	r := scoreResult{
		Raw:       getFloat(data, "raw"),
		Score:     getFloat(data, "score"),
		Anomalous: getBool(data, "anomalous"),
		ScopeNote: getString(data, "scopeNote"),
	}
	for i, key := range []string{"inputURL", "reconURL", "heatURL"} {
		r.Images[i] = mustGet(data, key)
	}
	r.Latents.Z = floats(mustGet(data, "z"))
	r.Latents.ZHat = floats(mustGet(data, "zhat"))
	r.Latents.XHat = floats(mustGet(data, "xhat"))
	return r
}

func mustGet(v safejs.Value, name string) safejs.Value {
	x, err := v.Get(name)
	if err != nil {
		return safejs.Undefined()
	}
	return x
}

// floats reads an ArrayBuffer of little-endian float32.
func floats(buf safejs.Value) []float32 {
	if buf.IsUndefined() || buf.IsNull() {
		return nil
	}
	u8, err := construct("Uint8Array", buf)
	if err != nil {
		return nil
	}
	n, _ := u8.Length()
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, u8); err != nil {
		return nil
	}
	f := make([]float32, n/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}
