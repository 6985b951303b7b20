//go:build js && wasm

package ui

import (
	"encoding/json"
	"errors"
	"sync"

	"github.com/hack-pad/safejs"
)

// The check page's results are kept in IndexedDB (database resultsDB, store
// resultsStore, one record per scored file: its figures as JSON and its three images
// as Blobs), so that a reload, a closed tab or a night offline loses none; Clear
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
	var funcs []safejs.Func
	set := func(event string, fn func(e safejs.Value)) {
		f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
			if len(args) > 0 {
				fn(args[0])
			}
			return nil
		})
		if err != nil {
			done <- outcome{err: err}
			return
		}
		funcs = append(funcs, f)
		req.Set(event, f.Value())
	}
	set("onsuccess", func(safejs.Value) {
		v, err := req.Get("result")
		select {
		case done <- outcome{v, err}:
		default:
		}
	})
	set("onerror", func(e safejs.Value) {
		msg := "IndexedDB request failed"
		if ev, err := req.Get("error"); err == nil && !ev.IsNull() && !ev.IsUndefined() {
			msg = getString(ev, "message")
		}
		e.Call("preventDefault")
		select {
		case done <- outcome{err: errors.New(msg)}:
		default:
		}
	})
	if onUpgrade != nil {
		set("onupgradeneeded", func(safejs.Value) {
			if db, err := req.Get("result"); err == nil {
				onUpgrade(db)
			}
		})
	}
	o := <-done
	for _, f := range funcs {
		f.Release()
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

// saveResult keeps one scored (or failed) file's result.
func saveResult(r storedResult, images [3]fileHandle) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	store, err := resultsObjectStore("readwrite")
	if err != nil {
		return err
	}
	rec := map[string]any{"id": r.ID, "item": string(b)}
	for i, key := range []string{"input", "recon", "heat"} {
		if present(images[i]) {
			rec[key] = images[i]
		}
	}
	req, err := store.Call("put", rec)
	if err != nil {
		return err
	}
	_, err = idbWait(req, nil)
	return err
}

// loadResults reads every kept result, by id.
func loadResults() ([]storedResult, [][3]fileHandle, error) {
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
	images := make([][3]fileHandle, 0, n)
	for i := range n {
		rec, _ := all.Index(i)
		var r storedResult
		if err := json.Unmarshal([]byte(getString(rec, "item")), &r); err != nil {
			continue // a record of another version: skipped, not fatal
		}
		var im [3]fileHandle
		for k, key := range []string{"input", "recon", "heat"} {
			im[k], _ = rec.Get(key)
		}
		out = append(out, r)
		images = append(images, im)
	}
	return out, images, nil
}

// clearResults forgets every kept result.
func clearResults() error {
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

// blobURL is a blob: URL for a kept image, or "" for none.
func blobURL(b fileHandle) string {
	if !present(b) {
		return ""
	}
	urlCtor, err := global.Get("URL")
	if err != nil {
		return ""
	}
	u, err := urlCtor.Call("createObjectURL", b)
	if err != nil {
		return ""
	}
	s, _ := u.String()
	return s
}

// present reports whether v holds a value (a Blob, here).
func present(v safejs.Value) bool {
	t, err := v.Truthy()
	return err == nil && t
}
