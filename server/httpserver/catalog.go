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
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

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
	// size and modTime of the weights and card files when they were read, to notice
	// a republished model.
	size, cardSize       int64
	modTime, cardModTime time.Time
}

// catalog lists the embedded default model and the valid models of a folder. The
// folder is scanned again at each request (a directory listing is cheap), and a file is
// read and checked again only when its size or time has changed, so models published
// while the server runs appear without a restart.
type catalog struct {
	dir string
	def *entry
	log *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry // by name, the folder's models only
	// skipped remembers invalid files by path and (size, time), so that each is logged
	// once, not at every request.
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
	}
	return c, nil
}

// describe checks a weights file and its card and fills in what the API says of them.
func describe(name string, data, card []byte) (*entry, error) {
	m, err := api.Describe(name, data, card)
	if err != nil {
		return nil, err
	}
	return &entry{Model: m, size: int64(len(data))}, nil
}

// list returns the default model and then the folder's models by name.
func (c *catalog) list() []api.Model {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scanLocked()
	out := []api.Model{c.def.Model}
	names := make([]string, 0, len(c.entries))
	for name := range c.entries {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, c.entries[name].Model)
	}
	return out
}

// lookup finds a model by name.
func (c *catalog) lookup(name string) (*entry, bool) {
	if name == api.DefaultModel {
		return c.def, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scanLocked()
	e, ok := c.entries[name]
	return e, ok
}

// scanLocked brings the entries in line with the folder.
func (c *catalog) scanLocked() {
	if c.dir == "" {
		return
	}
	dirents, err := os.ReadDir(c.dir)
	if err != nil {
		c.log.Error("cannot list the models folder; serving the models known so far", "dir", c.dir, "err", err)
		return
	}
	seen := map[string]bool{}
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
		seen[name] = true
		if e, ok := c.entries[name]; ok && e.size == st.Size() && e.modTime.Equal(st.ModTime()) &&
			e.cardSize == cardSize && e.cardModTime.Equal(cardTime) {
			continue
		}
		stamp := fmt.Sprint(st.Size(), st.ModTime().UnixNano(), cardSize, cardTime.UnixNano())
		if c.skipped[path] == stamp {
			continue // known bad, unchanged
		}
		e, err := c.read(name, path, cardPath, cardSize)
		if err != nil {
			delete(c.entries, name)
			c.skip(path, stamp, err)
			continue
		}
		delete(c.skipped, path)
		e.modTime, e.cardSize, e.cardModTime = st.ModTime(), cardSize, cardTime
		e.Modified = st.ModTime().UTC()
		if old, ok := c.entries[name]; ok {
			c.log.Info("model republished", "name", name, "sha256", e.SHA256, "previous", old.SHA256)
		} else {
			c.log.Info("model published", "name", name, "sha256", e.SHA256, "bytes", e.Size)
		}
		c.entries[name] = e
	}
	for name := range c.entries {
		if !seen[name] {
			c.log.Info("model removed", "name", name)
			delete(c.entries, name)
		}
	}
}

func (c *catalog) read(name, path, cardPath string, cardSize int64) (*entry, error) {
	data, err := readLimited(path, maxWeightsBytes)
	if err != nil {
		return nil, err
	}
	var card []byte
	if cardSize > 0 {
		if card, err = readLimited(cardPath, maxCardBytes); err != nil {
			return nil, fmt.Errorf("model card: %w", err)
		}
	}
	e, err := describe(name, data, card)
	if err != nil {
		return nil, err
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
