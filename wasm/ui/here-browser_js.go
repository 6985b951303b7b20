//go:build js && wasm

package ui

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hack-pad/safejs"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// The browser's own training, from the page's side: fetch the data pack (once, then
// from Cache Storage), start the workers, wire the followers to the leader with
// MessageChannels, and hand the leader's messages to the page. The workers do all the
// work (wasm/worker/train.go); the page draws.

// hereRun is a training in this browser.
type hereRun struct {
	mu      sync.Mutex
	workers []*worker
	ended   bool
}

// startHere starts a training of req on n workers, resuming from the stored checkpoint
// when resume is set; onMsg receives the leader's messages in order, on a goroutine of
// its own.
func startHere(req api.JobRequest, n int, name string, resume bool, onMsg func(hereMsg)) (_ *hereRun, err error) {
	var data safejs.Value // the MNIST pack, or the user's images
	var transfer []any
	switch {
	case req.Dataset == "folder" && resume:
		onMsg(hereMsg{kind: "note", err: "Reading your images back from this device…"})
		if data, transfer, err = storedImages(); err != nil {
			return nil, err
		}
	case req.Dataset == "folder":
		onMsg(hereMsg{kind: "note", err: "Reading your images…"})
		if data, transfer, err = readImages(); err != nil {
			return nil, err
		}
		// Kept on the device before their buffers go to the worker, so that a
		// reload or a closed tab can resume the run.
		if err := keepImages(data); err != nil {
			onMsg(hereMsg{kind: "note", err: "Your images cannot be kept on this device (" + err.Error() + "): this run cannot be resumed after a reload."})
		}
	default:
		onMsg(hereMsg{kind: "note", err: "Reading the MNIST digits…"})
		if data, err = loadPack(); err != nil {
			return nil, err
		}
		transfer = []any{data}
	}
	var checkpoint safejs.Value
	if resume {
		onMsg(hereMsg{kind: "note", err: "Reading the checkpoint…"})
		if checkpoint, err = cachedBuffer(hereCheckpointURL, false); err != nil {
			return nil, fmt.Errorf("no checkpoint to resume from: %w", err)
		}
	}
	onMsg(hereMsg{kind: "note", err: fmt.Sprintf("Starting %d worker%s…", n, map[bool]string{true: "s"}[n > 1])})
	workers, err := startWorkers(n)
	if err != nil {
		return nil, err
	}
	r := &hereRun{workers: workers}
	leader := r.workers[0]
	var ports []any
	for _, f := range r.workers[1:] {
		ch, err := construct("MessageChannel")
		if err != nil {
			r.stop()
			return nil, err
		}
		p1, _ := ch.Get("port1")
		p2, _ := ch.Get("port2")
		ports = append(ports, p1)
		if err := post(f, map[string]any{"type": "trainFollow", "port": p2}, p2); err != nil {
			r.stop()
			return nil, err
		}
	}
	reqJSON, _ := json.Marshal(req)
	msg := map[string]any{"type": "trainLead", "request": string(reqJSON), "ports": ports, "name": name}
	if req.Dataset == "folder" {
		msg["images"] = data
	} else {
		msg["pack"] = data
	}
	transfer = append(transfer, ports...)
	if resume {
		msg["checkpoint"] = checkpoint
		transfer = append(transfer, checkpoint)
	}
	if err := post(leader, msg, transfer...); err != nil {
		r.stop()
		return nil, err
	}
	onMsg(hereMsg{kind: "note", err: "Preparing the digits and the networks in the workers…"})
	go r.relay(leader, onMsg)
	for i, f := range r.workers[1:] {
		go func() {
			for rep := range f.replies {
				if rep.fatal != nil {
					onMsg(hereMsg{kind: "failed", err: fmt.Sprintf("training worker %d stopped: %v", i+2, rep.fatal)})
					return
				}
				if e := getString(rep.data, "error"); e != "" {
					onMsg(hereMsg{kind: "failed", err: fmt.Sprintf("training worker %d: %s", i+2, e)})
					return
				}
			}
		}()
	}
	return r, nil
}

// relay turns the leader's messages into hereMsgs.
func (r *hereRun) relay(leader *worker, onMsg func(hereMsg)) {
	for rep := range leader.replies {
		if rep.fatal != nil {
			onMsg(hereMsg{kind: "failed", err: "the training worker stopped: " + rep.fatal.Error()})
			return
		}
		d := rep.data
		switch getString(d, "type") {
		case "trainStarted":
			if e := getString(d, "error"); e != "" {
				onMsg(hereMsg{kind: "failed", err: e})
				return
			}
			onMsg(hereMsg{kind: "started"})
		case "trainEvent":
			var ev api.JobEvent
			if err := json.Unmarshal([]byte(getString(d, "event")), &ev); err == nil {
				onMsg(hereMsg{kind: "event", event: ev})
			}
		case "trainCheckpoint":
			ck, _ := d.Get("checkpoint")
			if err := putCached(hereCheckpointURL, ck); err != nil {
				fmt.Println("ganomaly: cannot keep the training's checkpoint:", err)
			}
			onMsg(hereMsg{kind: "checkpoint"})
		case "trainDone":
			ab, _ := d.Get("weights")
			weights, err := bufferBytes(ab)
			if err != nil {
				onMsg(hereMsg{kind: "failed", err: err.Error()})
				return
			}
			onMsg(hereMsg{kind: "done", weights: weights, card: []byte(getString(d, "card")), name: getString(d, "name")})
			return
		case "trainFailed":
			onMsg(hereMsg{kind: "failed", err: getString(d, "error"), cancelled: getBool(d, "cancelled")})
			return
		}
	}
}

// control pauses, resumes or cancels the run.
func (r *hereRun) control(action string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended || len(r.workers) == 0 {
		return errors.New("the training has ended")
	}
	return post(r.workers[0], map[string]any{"type": "trainControl", "action": action})
}

// stop ends the workers.
func (r *hereRun) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = true
	for _, w := range r.workers {
		w.terminate()
	}
}

// readImages reads the files chosen in the page's two inputs into {normal: [{name,
// data}], anomalous: [...]}, with their ArrayBuffers to transfer. The worker decodes
// them (broken files and non-images are skipped there, and said).
func readImages() (safejs.Value, []any, error) {
	doc, err := global.Get("document")
	if err != nil {
		return safejs.Value{}, nil, err
	}
	out, err := construct("Object")
	if err != nil {
		return safejs.Value{}, nil, err
	}
	var transfer []any
	for key, id := range map[string]string{"normal": hereNormalInput, "anomalous": hereAnomalousInput} {
		list, err := construct("Array")
		if err != nil {
			return safejs.Value{}, nil, err
		}
		input, err := doc.Call("getElementById", id)
		if err == nil && !input.IsNull() {
			files, _ := input.Get("files")
			n, _ := files.Length()
			for i := range n {
				f, _ := files.Index(i)
				ab, err := call(f, "arrayBuffer")
				if err != nil {
					return safejs.Value{}, nil, fmt.Errorf("reading %s: %w", getString(f, "name"), err)
				}
				item, _ := construct("Object")
				item.Set("name", getString(f, "name"))
				item.Set("data", ab)
				list.Call("push", item)
				transfer = append(transfer, ab)
			}
		}
		out.Set(key, list)
	}
	return out, transfer, nil
}

// startWorkers starts n kernel workers in parallel; it fails only when none starts.
func startWorkers(n int) ([]*worker, error) {
	type started struct {
		w   *worker
		err error
	}
	ch := make(chan started, n)
	for range n {
		go func() {
			w, err := startWorker(true)
			ch <- started{w, err}
		}()
	}
	var ws []*worker
	var firstErr error
	for range n {
		s := <-ch
		if s.err != nil {
			firstErr = cmpErr(firstErr, s.err)
			continue
		}
		ws = append(ws, s.w)
	}
	if len(ws) == 0 {
		return nil, firstErr
	}
	return ws, nil
}

func post(w *worker, msg map[string]any, transfer ...any) error {
	o, err := construct("Object")
	if err != nil {
		return err
	}
	for k, v := range msg {
		if err := o.Set(k, v); err != nil {
			return fmt.Errorf("setting %s: %w", k, err)
		}
	}
	_, err = w.js.Call("postMessage", o, transfer)
	return err
}

// loadPack returns the MNIST pack, from Cache Storage when it is there (a first
// training fetches it, and it stays for offline use).
func loadPack() (safejs.Value, error) {
	ab, err := cachedBuffer(PackURL, true)
	if err != nil {
		return safejs.Value{}, fmt.Errorf("the MNIST digits to train on: %w", err)
	}
	return ab, nil
}

// cachedBuffer reads url from the weights cache, or (fetch) from the network into it.
func cachedBuffer(url string, fetch bool) (safejs.Value, error) {
	caches, err := cacheStorage()
	if err != nil {
		return safejs.Value{}, err
	}
	cache, err := call(caches, "open", weightsCacheName)
	if err != nil {
		return safejs.Value{}, err
	}
	resp, err := call(cache, "match", url)
	if err != nil || resp.IsUndefined() {
		if !fetch {
			return safejs.Value{}, errors.New("not on this device")
		}
		if resp, err = call(global, "fetch", url); err != nil {
			return safejs.Value{}, fmt.Errorf("not on this device yet, and the server cannot be reached (%v): connect once", err)
		}
		if !getBool(resp, "ok") {
			body, _ := call(resp, "text")
			s, _ := body.String()
			return safejs.Value{}, httpError(resp, s)
		}
		clone, _ := resp.Call("clone")
		if _, err := call(cache, "put", url, clone); err != nil {
			fmt.Println("ganomaly: cannot keep", url, "for offline use:", err)
		}
	}
	return call(resp, "arrayBuffer")
}

// putCached stores the bytes of an ArrayBuffer in the weights cache under url.
func putCached(url string, ab safejs.Value) error {
	caches, err := cacheStorage()
	if err != nil {
		return err
	}
	cache, err := call(caches, "open", weightsCacheName)
	if err != nil {
		return err
	}
	resp, err := construct("Response", ab)
	if err != nil {
		return err
	}
	_, err = call(cache, "put", url, resp)
	return err
}

// deleteCached removes url from the weights cache.
func deleteCached(url string) {
	if caches, err := cacheStorage(); err == nil {
		if cache, err := call(caches, "open", weightsCacheName); err == nil {
			call(cache, "delete", url)
		}
	}
}

// hasCached reports whether url is in the weights cache, without reading it.
func hasCached(url string) bool {
	caches, err := cacheStorage()
	if err != nil {
		return false
	}
	cache, err := call(caches, "open", weightsCacheName)
	if err != nil {
		return false
	}
	resp, err := call(cache, "match", url)
	return err == nil && !resp.IsUndefined()
}

// keepModel stores a finished model's weights and card where the model picker and the
// teaching view load them from (Cache Storage, under their pinned URLs) and returns
// its description.
func keepModel(name string, weights, card []byte) (api.Model, error) {
	m, err := api.Describe(name, weights, card)
	if err != nil {
		return m, err
	}
	for _, f := range []struct {
		url  string
		data []byte
	}{{m.URL, weights}, {m.CardURL, card}} {
		if f.url == "" {
			continue // no card
		}
		ab, err := jsBuffer(f.data)
		if err != nil {
			return m, err
		}
		if err := putCached(f.url, ab); err != nil {
			return m, err
		}
	}
	return m, nil
}

func bufferBytes(ab safejs.Value) ([]byte, error) {
	u8, err := construct("Uint8Array", ab)
	if err != nil {
		return nil, err
	}
	n, err := u8.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, u8); err != nil {
		return nil, err
	}
	return b, nil
}

// publishModel PUTs a model trained here to the server's models folder (api.ModelURL),
// with the token, as multipart weights and card; it returns the server's description.
func publishModel(name string, weights, card []byte, token string) (api.Model, error) {
	var m api.Model
	form, err := construct("FormData")
	if err != nil {
		return m, err
	}
	for _, part := range []struct {
		field, file, mime string
		data              []byte
	}{{"weights", name + api.WeightsExt, "application/octet-stream", weights}, {"card", name + api.CardExt, "application/json", card}} {
		if len(part.data) == 0 {
			continue
		}
		buf, err := jsBuffer(part.data)
		if err != nil {
			return m, err
		}
		blob, err := construct("Blob", []any{buf}, map[string]any{"type": part.mime})
		if err != nil {
			return m, err
		}
		if _, err := form.Call("append", part.field, blob, part.file); err != nil { // returns nothing to await
			return m, err
		}
	}
	init := map[string]any{"method": "PUT", "body": form, "cache": "no-store",
		"headers": map[string]any{"Authorization": api.BearerToken(token), "Accept": "application/json"}}
	resp, err := call(global, "fetch", api.ModelURL(name), init)
	if err != nil {
		return m, fmt.Errorf("cannot reach the server: %w", err)
	}
	textV, err := call(resp, "text")
	if err != nil {
		return m, err
	}
	text, _ := textV.String()
	if !getBool(resp, "ok") {
		return m, httpError(resp, text)
	}
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		return m, fmt.Errorf("reading the server's answer: %w", err)
	}
	return m, nil
}

// hereImagesCache keeps the images of a training on one's own images, so that a
// reload can resume it (its checkpoint alone is not enough: the images are the data).
// The name keeps WeightsCache's prefix, which the service worker spares at updates.
const hereImagesCache = WeightsCache + "-here-images"

// keepImages stores the images of data ({normal: [{name, data}], anomalous: [...]})
// in hereImagesCache, replacing what was there, before their buffers go to a worker.
func keepImages(data safejs.Value) error {
	forgetImages()
	caches, err := cacheStorage()
	if err != nil {
		return err
	}
	cache, err := call(caches, "open", hereImagesCache)
	if err != nil {
		return err
	}
	for _, key := range []string{"normal", "anomalous"} {
		list, err := data.Get(key)
		if err != nil {
			continue
		}
		n, _ := list.Length()
		for i := range n {
			item, _ := list.Index(i)
			ab, err := item.Get("data")
			if err != nil {
				return err
			}
			resp, err := construct("Response", ab)
			if err != nil {
				return err
			}
			u := fmt.Sprintf("/here-images/%s/%06d?name=%s", key, i, url.QueryEscape(getString(item, "name")))
			if _, err := call(cache, "put", u, resp); err != nil {
				return err
			}
		}
	}
	return nil
}

// storedImages reads back what keepImages stored, in the same order, with the
// buffers to transfer.
func storedImages() (safejs.Value, []any, error) {
	caches, err := cacheStorage()
	if err != nil {
		return safejs.Value{}, nil, err
	}
	cache, err := call(caches, "open", hereImagesCache)
	if err != nil {
		return safejs.Value{}, nil, err
	}
	reqs, err := call(cache, "keys")
	if err != nil {
		return safejs.Value{}, nil, err
	}
	type file struct {
		key, name string
		index     int
		req       safejs.Value
	}
	var files []file
	n, _ := reqs.Length()
	for i := range n {
		req, _ := reqs.Index(i)
		u, err := url.Parse(getString(req, "url"))
		if err != nil {
			continue
		}
		rest, ok := strings.CutPrefix(u.Path, "/here-images/")
		if !ok {
			continue
		}
		key, idx, _ := strings.Cut(rest, "/")
		index, _ := strconv.Atoi(idx)
		files = append(files, file{key: key, name: u.Query().Get("name"), index: index, req: req})
	}
	if len(files) == 0 {
		return safejs.Value{}, nil, errors.New("the images of that training are no longer on this device: start it again with them")
	}
	// By key and index. Sorted through their indices: the sort of ints is in app.wasm
	// anyway, and one of this struct would add 20 kB to it (its size budget).
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(strings.Compare(files[a].key, files[b].key), files[a].index-files[b].index)
	})
	out, _ := construct("Object")
	lists := map[string]safejs.Value{}
	for _, key := range []string{"normal", "anomalous"} {
		lists[key], _ = construct("Array")
		out.Set(key, lists[key])
	}
	var transfer []any
	for _, i := range order {
		f := files[i]
		list, ok := lists[f.key]
		if !ok {
			continue
		}
		resp, err := call(cache, "match", f.req)
		if err != nil || resp.IsUndefined() {
			return safejs.Value{}, nil, fmt.Errorf("reading the stored image %s: %v", f.name, err)
		}
		ab, err := call(resp, "arrayBuffer")
		if err != nil {
			return safejs.Value{}, nil, err
		}
		item, _ := construct("Object")
		item.Set("name", f.name)
		item.Set("data", ab)
		list.Call("push", item)
		transfer = append(transfer, ab)
	}
	return out, transfer, nil
}

// forgetImages deletes the stored images of a training on one's own images.
func forgetImages() {
	if caches, err := cacheStorage(); err == nil {
		call(caches, "delete", hereImagesCache)
	}
}
