//go:build js && wasm

package ui

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/hack-pad/safejs"
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// This file is the page's only door to the browser outside go-app: every call goes
// through safejs, which returns errors where syscall/js would panic.

// fileHandle is a File (or Blob) object; it is handed to a kernel worker as is.
type fileHandle = safejs.Value

// weightsHandle is an ArrayBuffer holding a weights file.
type weightsHandle = safejs.Value

// jsString is a JavaScript string, left on the JavaScript side.
type jsString = safejs.Value

var global = safejs.Global()

// weightsCacheName is the Cache Storage cache of chosen models' weights.
const weightsCacheName = WeightsCache + "-v1"

// get follows a path of properties: get(v, "a", "b") is v.a.b.
func get(v safejs.Value, path ...string) (safejs.Value, error) {
	var err error
	for _, p := range path {
		if v, err = v.Get(p); err != nil {
			return safejs.Value{}, fmt.Errorf("reading %s: %w", p, err)
		}
	}
	return v, nil
}

func getString(v safejs.Value, path ...string) string {
	v, err := get(v, path...)
	if err != nil || v.IsUndefined() || v.IsNull() {
		return ""
	}
	s, _ := v.String()
	return s
}

// jsText is v's text when v is a string, else "".
func jsText(v safejs.Value) string {
	if v.Type() != safejs.TypeString {
		return ""
	}
	s, _ := v.String()
	return s
}

func getFloat(v safejs.Value, path ...string) float64 {
	v, err := get(v, path...)
	if err != nil {
		return 0
	}
	f, _ := v.Float()
	return f
}

func getBool(v safejs.Value, path ...string) bool {
	v, err := get(v, path...)
	if err != nil {
		return false
	}
	b, _ := v.Truthy()
	return b
}

// construct is `new globalThis[name](args...)`.
func construct(name string, args ...any) (safejs.Value, error) {
	ctor, err := global.Get(name)
	if err != nil {
		return safejs.Value{}, err
	}
	if ctor.IsUndefined() {
		return safejs.Value{}, fmt.Errorf("this browser has no %s", name)
	}
	return ctor.New(args...)
}

// jsError turns a rejected promise's reason or an error event into a Go error.
func jsError(reason safejs.Value) error {
	if msg := getString(reason, "message"); msg != "" {
		return errors.New(msg)
	}
	if s, err := reason.String(); err == nil && s != "" {
		return errors.New(s)
	}
	return errors.New("unknown JavaScript error")
}

// await waits for a promise. It blocks the calling goroutine, never the browser, so it
// must not be called from inside a JS callback (the callback would wait for itself).
func await(promise safejs.Value) (safejs.Value, error) {
	type outcome struct {
		v   safejs.Value
		err error
	}
	ch := make(chan outcome, 1) // one of the two callbacks runs, once: never blocks
	then, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		v := safejs.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- outcome{v: v}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer then.Release()
	catch, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		reason := safejs.Undefined()
		if len(args) > 0 {
			reason = args[0]
		}
		ch <- outcome{err: jsError(reason)}
		return nil
	})
	if err != nil {
		return safejs.Value{}, err
	}
	defer catch.Release()
	if _, err := promise.Call("then", then, catch); err != nil {
		return safejs.Value{}, fmt.Errorf("not a promise: %w", err)
	}
	o := <-ch
	return o.v, o.err
}

// call is v.m(args...) awaited.
func call(v safejs.Value, m string, args ...any) (safejs.Value, error) {
	p, err := v.Call(m, args...)
	if err != nil {
		return safejs.Value{}, err
	}
	return await(p)
}

// listen adds an event listener and returns what removes it. fn runs inside the
// event's dispatch, so it may call preventDefault and read a drop's files (which are
// gone once the event returns), but it must not block.
func listen(target safejs.Value, event string, fn func(e safejs.Value)) (release func()) {
	f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		if len(args) > 0 {
			fn(args[0])
		}
		return nil
	})
	if err != nil {
		return func() {}
	}
	if _, err := target.Call("addEventListener", event, f); err != nil {
		f.Release()
		return func() {}
	}
	return func() {
		target.Call("removeEventListener", event, f)
		f.Release()
	}
}

func isOnline() bool { return getBool(global, "navigator", "onLine") }

// watchOnline calls fn(online) whenever the browser goes on or off line.
func watchOnline(fn func(online bool)) (release func()) {
	r1 := listen(global, "online", func(safejs.Value) { fn(true) })
	r2 := listen(global, "offline", func(safejs.Value) { fn(false) })
	return func() { r1(); r2() }
}

// hardwareConcurrency is the number of logical cores the browser reports (1 when
// unknown).
func hardwareConcurrency() int {
	v, err := get(global, "navigator", "hardwareConcurrency")
	if err != nil {
		return 1
	}
	n, err := v.Int()
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// watchFiles makes the whole window a drop target, and the file input inputID and
// pasting feed it too. onDrag tells whether files are being dragged over the window;
// onFiles receives the files of each drop, pick or paste. Dropping anywhere is
// accepted so that a near miss does not make the browser navigate away to the image.
func watchFiles(inputID string, onDrag func(over bool), onFiles func([]fileRef)) (release func()) {
	hasFiles := func(e safejs.Value) bool {
		types, err := get(e, "dataTransfer", "types")
		if err != nil {
			return false
		}
		ok, err := types.Call("includes", "Files")
		if err != nil {
			return false
		}
		b, _ := ok.Bool()
		return b
	}
	preventDefault := func(e safejs.Value) { e.Call("preventDefault") }
	var releases []func()
	releases = append(releases,
		listen(global, "dragover", func(e safejs.Value) {
			if hasFiles(e) {
				preventDefault(e)
				onDrag(true)
			}
		}),
		listen(global, "dragleave", func(e safejs.Value) {
			// dragleave fires for every element left; only leaving the window ends
			// the drag (browsers give no reliable relatedTarget for drag events, so
			// test the position: outside the viewport, or 0,0 when the drag leaves).
			x, y := getFloat(e, "clientX"), getFloat(e, "clientY")
			w, h := getFloat(global, "innerWidth"), getFloat(global, "innerHeight")
			if x <= 0 || y <= 0 || x >= w || y >= h {
				onDrag(false)
			}
		}),
		listen(global, "drop", func(e safejs.Value) {
			preventDefault(e)
			onDrag(false)
			if files, err := get(e, "dataTransfer", "files"); err == nil {
				if refs := fileRefs(files); len(refs) > 0 {
					onFiles(refs)
				}
			}
		}),
		listen(global, "paste", func(e safejs.Value) {
			if files, err := get(e, "clipboardData", "files"); err == nil {
				if refs := fileRefs(files); len(refs) > 0 {
					preventDefault(e)
					onFiles(refs)
				}
			}
		}),
	)
	// change bubbles: listening on the window survives go-app re-creating the input.
	releases = append(releases, listen(global, "change", func(e safejs.Value) {
		input, err := e.Get("target")
		if err != nil || getString(input, "id") != inputID {
			return
		}
		if files, err := get(input, "files"); err == nil {
			if refs := fileRefs(files); len(refs) > 0 {
				onFiles(refs)
			}
		}
		// Reset, so that picking the same file again fires change again.
		input.Set("value", "")
	}))
	return func() {
		for _, r := range releases {
			r()
		}
	}
}

// fileRefs lists a FileList. The File objects stay valid after the event that gave
// them, unlike the drop's DataTransfer.
func fileRefs(list safejs.Value) []fileRef {
	n, err := list.Length()
	if err != nil {
		return nil
	}
	refs := make([]fileRef, 0, n)
	for i := range n {
		f, err := list.Index(i)
		if err != nil {
			continue
		}
		refs = append(refs, fileRef{handle: f, name: getString(f, "name"), size: int64(getFloat(f, "size"))})
	}
	return refs
}

// fetchText GETs a URL and returns its body; an HTTP error becomes an error carrying
// the API's message when the body is an api.Error.
func fetchText(u string) (string, error) {
	resp, err := call(global, "fetch", u)
	if err != nil {
		return "", fmt.Errorf("cannot reach the server: %w", err)
	}
	textV, err := call(resp, "text")
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", u, err)
	}
	text, _ := textV.String()
	if !getBool(resp, "ok") {
		return "", httpError(resp, text)
	}
	return text, nil
}

func httpError(resp safejs.Value, body string) error {
	var e api.Error
	if json.Unmarshal([]byte(body), &e) == nil && e.Message != "" {
		return fmt.Errorf("server answered %d: %s", int(getFloat(resp, "status")), e.Message)
	}
	return fmt.Errorf("server answered %d %s", int(getFloat(resp, "status")), getString(resp, "statusText"))
}

// fetchModels asks the server for its models.
func fetchModels() (api.ModelList, error) {
	var list api.ModelList
	text, err := fetchText(api.ModelsPath)
	if err != nil {
		return list, err
	}
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		return list, fmt.Errorf("reading the model list: %w", err)
	}
	return list, nil
}

// cacheStorage is window.caches, or an error where the page is not a secure context.
func cacheStorage() (safejs.Value, error) {
	c, err := global.Get("caches")
	if err != nil || c.IsUndefined() {
		return safejs.Value{}, errors.New("this page has no Cache Storage (it needs https or localhost)")
	}
	return c, nil
}

// requestURI cuts an absolute URL to path?query, the form api.Model.URL has.
func requestURI(abs string) string {
	u, err := url.Parse(abs)
	if err != nil {
		return abs
	}
	return u.RequestURI()
}

// cachedWeights lists the weights URLs present in any of the origin's caches: the
// service worker's (the default model, cached at install) and the app's own.
func cachedWeights() map[string]bool {
	out := map[string]bool{}
	caches, err := cacheStorage()
	if err != nil {
		return out
	}
	names, err := call(caches, "keys")
	if err != nil {
		return out
	}
	n, _ := names.Length()
	for i := range n {
		name, _ := names.Index(i)
		cache, err := call(caches, "open", name)
		if err != nil {
			continue
		}
		reqs, err := call(cache, "keys")
		if err != nil {
			continue
		}
		m, _ := reqs.Length()
		for j := range m {
			req, _ := reqs.Index(j)
			if u := requestURI(getString(req, "url")); strings.HasPrefix(u, api.WeightsPrefix) {
				out[u] = true
			}
		}
	}
	return out
}

// loadWeights returns a model's weights file, from Cache Storage when it is there,
// else from the server (and then keeps it in the cache, dropping older versions of the
// same model). The bytes are checked against the published size and SHA-256, so a
// damaged cache entry is found, evicted and reported.
func loadWeights(m api.Model) (w weightsHandle, fromCache bool, err error) {
	caches, cacheErr := cacheStorage()
	var resp safejs.Value
	if cacheErr == nil {
		if resp, err = call(caches, "match", m.URL); err != nil {
			resp = safejs.Undefined()
		}
	}
	fromCache = cacheErr == nil && !resp.IsUndefined()
	if !fromCache {
		if resp, err = call(global, "fetch", m.URL); err != nil {
			return w, false, fmt.Errorf("the weights of %q are not cached on this device and the server cannot be reached (%v); connect once to fetch them", m.Name, err)
		}
		if !getBool(resp, "ok") {
			body, _ := call(resp, "text")
			s, _ := body.String()
			return w, false, fmt.Errorf("fetching the weights of %q: %w", m.Name, httpError(resp, s))
		}
		if cacheErr == nil {
			if err := storeWeights(caches, m, resp); err != nil {
				// Scoring still works online; say why it will not offline.
				fmt.Println("ganomaly: cannot keep the weights for offline use:", err)
			}
		}
	}
	buf, err := call(resp, "arrayBuffer")
	if err != nil {
		return w, fromCache, fmt.Errorf("reading the weights of %q: %w", m.Name, err)
	}
	if err := checkWeights(m, buf); err != nil {
		if fromCache {
			if cache, err := call(caches, "open", weightsCacheName); err == nil {
				call(cache, "delete", m.URL)
			}
		}
		return w, fromCache, err
	}
	return buf, fromCache, nil
}

func storeWeights(caches safejs.Value, m api.Model, resp safejs.Value) error {
	cache, err := call(caches, "open", weightsCacheName)
	if err != nil {
		return err
	}
	clone, err := resp.Call("clone")
	if err != nil {
		return err
	}
	if _, err := call(cache, "put", m.URL, clone); err != nil {
		return err
	}
	// Older versions of this model are dead weight: their URLs are never asked again.
	path, _, _ := strings.Cut(m.URL, "?")
	reqs, err := call(cache, "keys")
	if err != nil {
		return nil
	}
	n, _ := reqs.Length()
	for i := range n {
		req, _ := reqs.Index(i)
		u := requestURI(getString(req, "url"))
		if p, _, _ := strings.Cut(u, "?"); p == path && u != m.URL {
			call(cache, "delete", req)
		}
	}
	return nil
}

// checkWeights compares the bytes with the published size and hash.
func checkWeights(m api.Model, buf safejs.Value) error {
	if m.Size > 0 {
		if n := int64(getFloat(buf, "byteLength")); n != m.Size {
			return fmt.Errorf("the weights of %q have %d bytes, the server published %d: reload to fetch them again", m.Name, n, m.Size)
		}
	}
	subtle, err := get(global, "crypto", "subtle")
	if err != nil || subtle.IsUndefined() || m.SHA256 == "" {
		return nil // no WebCrypto outside secure contexts; the size check stands alone
	}
	digest, err := call(subtle, "digest", "SHA-256", buf)
	if err != nil {
		return nil
	}
	u8, err := construct("Uint8Array", digest)
	if err != nil {
		return nil
	}
	sum := make([]byte, 32)
	if _, err := safejs.CopyBytesToGo(sum, u8); err != nil {
		return nil
	}
	if got := hex.EncodeToString(sum); got != m.SHA256 {
		return fmt.Errorf("the weights of %q have SHA-256 %s…, the server published %s…: the copy is damaged; reload to fetch it again", m.Name, got[:12], api.ShortHash(m.SHA256)[:12])
	}
	return nil
}

// objectURL makes a blob: URL for the bytes in an ArrayBuffer.
func objectURL(buf safejs.Value, mime string) string {
	if buf.IsUndefined() || buf.IsNull() {
		return ""
	}
	blob, err := construct("Blob", []any{buf}, map[string]any{"type": mime})
	if err != nil {
		return ""
	}
	urlCtor, err := global.Get("URL")
	if err != nil {
		return ""
	}
	u, err := urlCtor.Call("createObjectURL", blob)
	if err != nil {
		return ""
	}
	s, _ := u.String()
	return s
}

// revokeImages frees the images that are blob: URLs (results kept by an earlier
// version); revoking any other URL does nothing.
func revokeImages(list [][3]jsString) {
	urlCtor, err := global.Get("URL")
	if err != nil {
		return
	}
	for _, im := range list {
		for _, u := range im {
			if u.Type() == safejs.TypeString {
				urlCtor.Call("revokeObjectURL", u)
			}
		}
	}
}

// showImages puts images into the img elements of card, a result card's element.
// The card's HTML holds no images: a data: URL written into it travelled from the
// worker's string into a Go string, into the HTML and through the parser (a fifth of
// the page's time in a large batch); set as the element's src it goes as it is. The
// card's own elements are looked up, not the document's, which grows with the batch.
func showImages(card app.Value, images [3]jsString) {
	if card == nil {
		return
	}
	el := safejs.Safe(app.JSValue(card))
	if !present(el) {
		return
	}
	imgs, err := el.Call("getElementsByTagName", "img")
	if err != nil {
		return
	}
	for i := range images {
		if img, err := imgs.Index(i); err == nil && present(img) {
			img.Set("src", images[i])
		}
	}
}

// revokeURLs frees blob: URLs made by objectURL.
func revokeURLs(urls ...string) {
	urlCtor, err := global.Get("URL")
	if err != nil {
		return
	}
	for _, u := range urls {
		if strings.HasPrefix(u, "blob:") {
			urlCtor.Call("revokeObjectURL", u)
		}
	}
}

// jsBuffer copies b into a new ArrayBuffer.
func jsBuffer(b []byte) (safejs.Value, error) {
	u8, err := construct("Uint8Array", len(b))
	if err != nil {
		return safejs.Value{}, err
	}
	if _, err := safejs.CopyBytesToJS(u8, b); err != nil {
		return safejs.Value{}, err
	}
	return u8.Get("buffer")
}

// download offers data to the user as a file.
func download(name, mime string, data []byte) error {
	buf, err := jsBuffer(data)
	if err != nil {
		return err
	}
	u := objectURL(buf, mime)
	if u == "" {
		return errors.New("cannot make a download link")
	}
	doc, err := global.Get("document")
	if err != nil {
		return err
	}
	a, err := doc.Call("createElement", "a")
	if err != nil {
		return err
	}
	a.Set("href", u)
	a.Set("download", name)
	if _, err := a.Call("click"); err != nil {
		return err
	}
	// The download has started from the URL by now; a delay covers browsers that
	// read it asynchronously.
	var revoke safejs.Func
	revoke, err = safejs.FuncOf(func(safejs.Value, []safejs.Value) any {
		revokeURLs(u)
		revoke.Release()
		return nil
	})
	if err == nil {
		global.Call("setTimeout", revoke, 10000)
	}
	return nil
}

// fetchSample loads a shipped sample image (from the service worker's cache when
// offline) as a file to score.
func fetchSample(u string) (fileRef, error) {
	resp, err := call(global, "fetch", u)
	if err != nil {
		return fileRef{}, err
	}
	if !getBool(resp, "ok") {
		return fileRef{}, fmt.Errorf("%s: %s", u, getString(resp, "statusText"))
	}
	blob, err := call(resp, "blob")
	if err != nil {
		return fileRef{}, err
	}
	return fileRef{handle: blob, name: path.Base(u), size: int64(getFloat(blob, "size"))}, nil
}
