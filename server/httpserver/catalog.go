package httpserver

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// Limits on what the catalog reads from the models folder.
const (
	// maxWeightsBytes is far above the largest model a browser can run
	// (model.MaxWidth and MaxImageSize allow more, but a browser tab does not).
	maxWeightsBytes = 1 << 30
	// maxCardBytes bounds a model card: it is sent inside every model list.
	maxCardBytes = 256 << 10
)

// entry is one model the server offers.
type entry struct {
	api.Model
	// path is the weights file; empty for the embedded default, whose bytes are in data.
	path string
	data []byte
	// card is the model card's file as published (nil without one); served at CardURL.
	card []byte
	// size and modTime of the weights and card files when they were read, to notice
	// a republished model.
	size, cardSize       int64
	modTime, cardModTime time.Time
}

// pollEvery is how often the folder is scanned when it cannot be watched (fsnotify
// unavailable, or out of inotify instances): a request then scans at most this often.
const pollEvery = 2 * time.Second

// catalog lists the embedded default model and the valid models of a folder. Requests
// read a snapshot; the folder is scanned again only when it has changed (fsnotify
// says so), or at most every pollEvery where it cannot be watched. A scan reads a file
// only when its size or time has changed, so models published while the server runs
// appear without a restart, and a large new model is read by one request while the
// others go on with the snapshot.
type catalog struct {
	dir string
	def *entry
	log *slog.Logger

	// dirty is set when the folder changed since the last scan.
	dirty   atomic.Bool
	watcher *fsnotify.Watcher // nil: polling

	mu      sync.RWMutex
	entries map[string]*entry // by name, the folder's models only: the snapshot

	scanMu sync.Mutex // one scan at a time; guards skipped
	// lastScan is when the last scan began, in Unix nanoseconds.
	lastScan atomic.Int64
	// skipped remembers invalid files by path and (size, time), so that each is logged
	// once, not at every scan.
	skipped map[string]string
}

func newCatalog(dir string, defaultWeights, defaultCard []byte, log *slog.Logger) (*catalog, error) {
	def, err := describe(api.DefaultModel, defaultWeights, defaultCard)
	if err != nil {
		return nil, fmt.Errorf("the embedded default model (weights/default.safetensors) is invalid: %w", err)
	}
	def.Default = true
	def.data = defaultWeights
	c := &catalog{dir: dir, def: def, log: log, entries: map[string]*entry{}, skipped: map[string]string{}}
	if dir != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("models folder: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("models folder %s is not a folder", dir)
		}
		c.watch()
		// The first scan before serving: no request sees an empty folder.
		c.dirty.Store(true)
		c.refresh()
	}
	return c, nil
}

// watch starts watching the folder; without a watcher the catalog polls.
func (c *catalog) watch() {
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(c.dir); err != nil {
			w.Close()
		}
	}
	if err != nil {
		c.log.Warn("cannot watch the models folder; scanning it at most every "+pollEvery.String()+" instead", "dir", c.dir, "err", err)
		return
	}
	c.watcher = w
	go func() {
		for {
			select {
			case _, ok := <-w.Events:
				if !ok {
					return
				}
				c.dirty.Store(true)
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				// Events may have been lost (queue overflow): scan to be sure.
				c.log.Warn("watching the models folder", "err", err)
				c.dirty.Store(true)
			}
		}
	}()
}

// close stops watching the folder.
func (c *catalog) close() {
	if c.watcher != nil {
		c.watcher.Close()
	}
}

// describe checks a weights file and its card and fills in what the API says of them.
func describe(name string, data, card []byte) (*entry, error) {
	m, err := api.Describe(name, data, card)
	if err != nil {
		return nil, err
	}
	return &entry{Model: m, size: int64(len(data)), card: card}, nil
}

// list returns the default model and then the folder's models by name.
func (c *catalog) list() []api.Model {
	c.refresh()
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := []api.Model{c.def.Model}
	for _, name := range slices.Sorted(maps.Keys(c.entries)) {
		out = append(out, c.entries[name].Model)
	}
	return out
}

// lookup finds a model by name.
func (c *catalog) lookup(name string) (*entry, bool) {
	if name == api.DefaultModel {
		return c.def, true
	}
	c.refresh()
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.entries[name]
	return e, ok
}

// refresh scans the folder if it changed since the last scan (or, unwatched, if the
// last scan is older than pollEvery). While one request scans, the others go on with
// the snapshot instead of waiting: a large model being copied in does not hold up
// the server.
func (c *catalog) refresh() { c.sync(false) }

// changed is for a writer in this process (a job's publish, an upload, a weights file
// found changed while served): it scans at once, waiting for a scan under way, so
// that what it wrote is in the snapshot when it returns.
func (c *catalog) changed() {
	c.dirty.Store(true)
	c.sync(true)
}

// sync scans when the folder is stale; wait says whether to wait for a scan that
// another request is running, or go on with the snapshot.
func (c *catalog) sync(wait bool) {
	if c.dir == "" || !c.stale() {
		return
	}
	if wait {
		c.scanMu.Lock()
	} else if !c.scanMu.TryLock() {
		return // another request is scanning
	}
	defer c.scanMu.Unlock()
	if !c.stale() { // scanned while this one got here
		return
	}
	c.dirty.Store(false)
	c.lastScan.Store(time.Now().UnixNano())
	next := c.scan()
	c.mu.Lock()
	c.entries = next
	c.mu.Unlock()
}

// stale reports whether the folder must be scanned again.
func (c *catalog) stale() bool {
	return c.dirty.Load() || c.watcher == nil && time.Since(time.Unix(0, c.lastScan.Load())) >= pollEvery
}

// scan reads the folder into a new snapshot, reusing the entries of unchanged files.
// It runs under scanMu.
func (c *catalog) scan() map[string]*entry {
	c.mu.RLock()
	old := c.entries
	c.mu.RUnlock()
	dirents, err := os.ReadDir(c.dir)
	if err != nil {
		c.log.Error("cannot list the models folder; serving the models known so far", "dir", c.dir, "err", err)
		return old
	}
	next := map[string]*entry{}
	for _, d := range dirents {
		name, ok := strings.CutSuffix(d.Name(), api.WeightsExt)
		if !ok || strings.HasPrefix(d.Name(), ".") { // .tmp files of atomic writes included
			continue
		}
		path := filepath.Join(c.dir, d.Name())
		if err := api.CheckName(name); err != nil {
			c.skip(path, "", fmt.Errorf("%v; rename the file", err))
			continue
		}
		if name == api.DefaultModel {
			c.skip(path, "", errors.New(`"default" is the embedded model's name; rename the file`))
			continue
		}
		st, err := os.Stat(path) // follows symbolic links: an admin may link models in
		if err != nil || !st.Mode().IsRegular() {
			c.skip(path, "", fmt.Errorf("not a readable regular file: %v", err))
			continue
		}
		cardPath := filepath.Join(c.dir, name+api.CardExt)
		var cardSize int64
		var cardTime time.Time
		if cst, err := os.Stat(cardPath); err == nil && cst.Mode().IsRegular() {
			cardSize, cardTime = cst.Size(), cst.ModTime()
		}
		if e, ok := old[name]; ok && e.size == st.Size() && e.modTime.Equal(st.ModTime()) &&
			e.cardSize == cardSize && e.cardModTime.Equal(cardTime) {
			next[name] = e
			continue
		}
		stamp := fmt.Sprint(st.Size(), st.ModTime().UnixNano(), cardSize, cardTime.UnixNano())
		if c.skipped[path] == stamp {
			continue // known bad, unchanged
		}
		e, err := c.read(name, path, cardPath, cardSize)
		var bad *badModel
		switch {
		case errors.As(err, &bad):
			c.skip(path, stamp, err) // this version of the file is bad: not read again
			continue
		case err != nil:
			// The file could not be read now (permissions, too many open files): keep
			// what was served, and try again at the next request.
			c.log.Warn("cannot read a model file; trying again later", "file", path, "err", err)
			if e, ok := old[name]; ok {
				next[name] = e
			}
			c.dirty.Store(true)
			continue
		}
		delete(c.skipped, path)
		e.modTime, e.cardSize, e.cardModTime = st.ModTime(), cardSize, cardTime
		e.Modified = st.ModTime().UTC()
		if prev, ok := old[name]; ok {
			c.log.Info("model republished", "name", name, "sha256", e.SHA256, "previous", prev.SHA256)
		} else {
			c.log.Info("model published", "name", name, "sha256", e.SHA256, "bytes", e.Size)
		}
		next[name] = e
	}
	for name := range old {
		if _, ok := next[name]; !ok {
			c.log.Info("model removed", "name", name)
		}
	}
	return next
}

// badModel is a model file whose content is refused (as opposed to one that could not
// be read): that version of it is skipped until it changes.
type badModel struct{ err error }

func (b *badModel) Error() string { return b.err.Error() }
func (b *badModel) Unwrap() error { return b.err }

func (c *catalog) read(name, path, cardPath string, cardSize int64) (*entry, error) {
	if info, err := os.Stat(path); err == nil && info.Size() > maxWeightsBytes {
		return nil, &badModel{fmt.Errorf("%s is larger than %d bytes", path, maxWeightsBytes)}
	}
	data, err := readLimited(path, maxWeightsBytes)
	if err != nil {
		return nil, err
	}
	var card []byte
	if cardSize > maxCardBytes {
		return nil, &badModel{fmt.Errorf("model card: %s is larger than %d bytes", cardPath, maxCardBytes)}
	}
	if cardSize > 0 {
		if card, err = readLimited(cardPath, maxCardBytes); err != nil {
			return nil, fmt.Errorf("model card: %w", err)
		}
	}
	e, err := describe(name, data, card)
	if err != nil {
		return nil, &badModel{err}
	}
	e.path = path
	return e, nil
}

// skip logs an invalid file once per version of it.
func (c *catalog) skip(path, stamp string, err error) {
	if stamp != "" && c.skipped[path] == stamp {
		return
	}
	if stamp == "" {
		if _, logged := c.skipped[path]; logged {
			return
		}
	}
	c.skipped[path] = stamp
	c.log.Warn("skipping an invalid model file", "file", path, "err", err)
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// open returns a folder model's weights for serving, with the entry that describes
// exactly those bytes: when the file changed since the last scan (republished under
// the same name), the catalog is brought up to date first, so that the ETag sent
// always belongs to the bytes sent. Publishers should replace files by rename (as
// model.WeightsFile.WriteFile does); an open file then keeps its content.
func (c *catalog) open(e *entry) (*entry, io.ReadSeekCloser, error) {
	if e.path == "" {
		return e, nopCloser{bytes.NewReader(e.data)}, nil
	}
	f, err := os.Open(e.path)
	if err != nil {
		return nil, nil, err
	}
	if st, err := f.Stat(); err == nil && st.Size() == e.size && st.ModTime().Equal(e.modTime) {
		return e, f, nil
	}
	data, err := io.ReadAll(io.LimitReader(f, maxWeightsBytes+1))
	f.Close()
	if err != nil {
		return nil, nil, err
	}
	c.changed() // the file changed: the watcher's event may not have come yet
	fresh, ok := c.lookup(e.Name)
	if !ok {
		return nil, nil, fs.ErrNotExist
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != fresh.SHA256 {
		return nil, nil, fmt.Errorf("model %q changed while it was being read; try again", e.Name)
	}
	return fresh, nopCloser{bytes.NewReader(data)}, nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }
