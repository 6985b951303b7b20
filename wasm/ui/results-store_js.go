//go:build js && wasm

package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/hack-pad/safejs"
)

// The check page's results are kept in IndexedDB (database resultsDB, store
// resultsStore, one record per scored file: its figures as JSON and its three images
// as data: URLs), so that a reload, a closed tab or a night offline loses none; Clear
// forgets them.
const (
	resultsDB    = "ganomaly"
	resultsStore = "results"
)

var resultsDBHandle struct {
	once sync.Once
	db   safejs.Value
	err  error
}

// idbWait waits for an IDBRequest (or an IDBOpenDBRequest) and returns its result.
// onUpgrade, when not nil, runs on an open request's upgradeneeded event.
func idbWait(req safejs.Value, onUpgrade func(db safejs.Value)) (safejs.Value, error) {
	type outcome struct {
		v   safejs.Value
		err error
	}
	done := make(chan outcome, 1)
	send := func(o outcome) {
		select {
		case done <- o:
		default:
		}
	}
	releases := []func(){
		listen(req, "success", func(safejs.Value) {
			v, err := req.Get("result")
			send(outcome{v, err})
		}),
		listen(req, "error", func(e safejs.Value) {
			msg := "IndexedDB request failed"
			if ev, err := req.Get("error"); err == nil && !ev.IsNull() && !ev.IsUndefined() {
				msg = getString(ev, "message")
			}
			e.Call("preventDefault")
			send(outcome{err: errors.New(msg)})
		}),
	}
	if onUpgrade != nil {
		releases = append(releases, listen(req, "upgradeneeded", func(safejs.Value) {
			if db, err := req.Get("result"); err == nil {
				onUpgrade(db)
			}
		}))
	}
	o := <-done
	for _, r := range releases {
		r()
	}
	return o.v, o.err
}

func resultsDatabase() (safejs.Value, error) {
	h := &resultsDBHandle
	h.once.Do(func() {
		idb, err := global.Get("indexedDB")
		if err != nil || idb.IsUndefined() {
			h.err = errors.New("this browser has no IndexedDB")
			return
		}
		req, err := idb.Call("open", resultsDB, 1)
		if err != nil {
			h.err = err
			return
		}
		h.db, h.err = idbWait(req, func(db safejs.Value) {
			db.Call("createObjectStore", resultsStore, map[string]any{"keyPath": "id"})
		})
	})
	return h.db, h.err
}

// resultsObjectStore opens the store in a transaction of mode.
func resultsObjectStore(mode string) (safejs.Value, error) {
	db, err := resultsDatabase()
	if err != nil {
		return safejs.Value{}, err
	}
	tx, err := db.Call("transaction", resultsStore, mode)
	if err != nil {
		return safejs.Value{}, err
	}
	return tx.Call("objectStore", resultsStore)
}

// saveResult keeps one scored (or failed) file's result. It is written at once when no
// write is under way; results that arrive during a write go together in the next one
// (a transaction per result cost the page's thread more than the result itself).
func saveResult(r storedResult, images [3]jsString) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	saves.mu.Lock()
	saves.queue = append(saves.queue, pendingSave{r.ID, string(b), images})
	start := !saves.running
	saves.running = true
	saves.mu.Unlock()
	if start {
		go flushSaves()
	}
	return nil
}

type pendingSave struct {
	id     int
	item   string
	images [3]jsString // data: URLs
}

var saves struct {
	mu      sync.Mutex
	queue   []pendingSave
	running bool
	// gen counts clears: a batch taken before a clear is not written after it.
	gen int
}

// maxSavesPerWrite bounds a write: a transaction of every result that arrived during
// the last one held the page's thread for up to a tenth of a second in a large batch.
const maxSavesPerWrite = 16

// flushSaves writes the queued results until none is left.
func flushSaves() {
	for {
		saves.mu.Lock()
		n := min(len(saves.queue), maxSavesPerWrite)
		batch, gen := saves.queue[:n:n], saves.gen
		saves.queue = saves.queue[n:]
		if len(batch) == 0 {
			saves.running = false
			saves.mu.Unlock()
			return
		}
		saves.mu.Unlock()
		if err := writeSaves(batch, gen); err != nil {
			fmt.Println("ganomaly: cannot keep results on this device:", err)
		}
	}
}

// writeSaves puts results in one transaction and waits for it to complete, unless
// the results were cleared since they were taken (gen).
func writeSaves(batch []pendingSave, gen int) error {
	db, err := resultsDatabase()
	if err != nil {
		return err
	}
	saves.mu.Lock()
	cleared := saves.gen != gen
	saves.mu.Unlock()
	if cleared {
		return nil
	}
	// No goroutine runs between the check above and the transaction below (Go in
	// wasm switches only where one blocks): a clear comes before or after both.
	tx, err := db.Call("transaction", resultsStore, "readwrite")
	if err != nil {
		return err
	}
	store, err := tx.Call("objectStore", resultsStore)
	if err != nil {
		return err
	}
	for _, p := range batch {
		rec, err := construct("Object")
		if err != nil {
			return err
		}
		rec.Set("id", p.id)
		rec.Set("item", p.item)
		for i, key := range []string{"input", "recon", "heat"} {
			if p.images[i].Type() == safejs.TypeString {
				rec.Set(key, p.images[i])
			}
		}
		if _, err := store.Call("put", rec); err != nil {
			return err
		}
	}
	return txDone(tx)
}

// txDone waits for a transaction to complete.
func txDone(tx safejs.Value) error {
	done := make(chan error, 1)
	var releases []func()
	for _, ev := range []string{"complete", "error", "abort"} {
		releases = append(releases, listen(tx, ev, func(safejs.Value) {
			var err error
			if ev != "complete" {
				err = errors.New("the IndexedDB transaction failed")
				if e, gerr := tx.Get("error"); gerr == nil && present(e) {
					err = errors.New(getString(e, "message"))
				}
			}
			select {
			case done <- err:
			default:
			}
		}))
	}
	err := <-done
	for _, r := range releases {
		r()
	}
	return err
}

// loadResults reads every kept result, by id.
func loadResults() ([]storedResult, []keptImages, error) {
	store, err := resultsObjectStore("readonly")
	if err != nil {
		return nil, nil, err
	}
	req, err := store.Call("getAll")
	if err != nil {
		return nil, nil, err
	}
	all, err := idbWait(req, nil)
	if err != nil {
		return nil, nil, err
	}
	n, _ := all.Length()
	out := make([]storedResult, 0, n)
	images := make([]keptImages, 0, n)
	for i := range n {
		rec, _ := all.Index(i)
		var r storedResult
		if err := json.Unmarshal([]byte(getString(rec, "item")), &r); err != nil {
			continue // a record of another version: skipped, not fatal
		}
		var im keptImages
		for k, key := range []string{"input", "recon", "heat"} {
			v, _ := rec.Get(key)
			if k == 0 {
				im.Input = v
			}
			if v.Type() == safejs.TypeString {
				im.URLs[k] = v
			} else {
				im.URLs[k] = blobURL(v) // a record kept as Blobs by an earlier version
			}
		}
		out = append(out, r)
		images = append(images, im)
	}
	return out, images, nil
}

// clearResults forgets every kept result (those waiting to be written included).
func clearResults() error {
	saves.mu.Lock()
	saves.queue = nil
	saves.gen++
	saves.mu.Unlock()
	store, err := resultsObjectStore("readwrite")
	if err != nil {
		return err
	}
	req, err := store.Call("clear")
	if err != nil {
		return err
	}
	_, err = idbWait(req, nil)
	return err
}

// blobURL is a blob: URL for a Blob, or undefined for none.
func blobURL(b fileHandle) jsString {
	if !present(b) {
		return safejs.Undefined()
	}
	urlCtor, err := global.Get("URL")
	if err != nil {
		return safejs.Undefined()
	}
	u, err := urlCtor.Call("createObjectURL", b)
	if err != nil {
		return safejs.Undefined()
	}
	return u
}

// present reports whether v holds a value (a Blob, here).
func present(v safejs.Value) bool {
	t, err := v.Truthy()
	return err == nil && t
}
