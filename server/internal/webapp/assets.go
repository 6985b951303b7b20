package webapp

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// asset is one file of the web folder, held in memory with its gzip form.
type asset struct {
	name        string // path under /web/, e.g. "app.wasm"
	data        []byte
	gz          []byte // nil when not compressed
	sha256      string // of data, hex
	contentType string
	modTime     time.Time
}

// maxAssetBytes bounds one file of the web folder: far above app.wasm (about 8 MB),
// low enough that a stray file does not eat the server's memory.
const maxAssetBytes = 128 << 20

// loadAssets reads every file under dir (hidden files and folders excepted) into
// memory. A file's .gz sibling becomes its precompressed form after a check that it
// decompresses to the file: a .gz left from an older build would otherwise serve an
// old app. .wasm files without a valid .gz are compressed here, once, at start-up.
func loadAssets(fsys fs.FS, log *slog.Logger) (map[string]*asset, error) {
	raw := map[string][]byte{}
	mod := map[string]time.Time{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || strings.HasSuffix(p, ".go") {
			return nil // web/ holds the package that embeds it: its Go files are not the app's
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > maxAssetBytes {
			return fmt.Errorf("%s is %d bytes, more than the %d a web file may have", p, info.Size(), maxAssetBytes)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		raw[p], mod[p] = b, info.ModTime()
		return nil
	})
	if err != nil {
		return nil, err
	}
	assets := map[string]*asset{}
	for name, data := range raw {
		if strings.HasSuffix(name, ".gz") {
			if _, ok := raw[strings.TrimSuffix(name, ".gz")]; ok {
				continue // a precompressed form, handled with its file
			}
		}
		sum := sha256.Sum256(data)
		a := &asset{name: name, data: data, sha256: hex.EncodeToString(sum[:]), modTime: mod[name],
			contentType: contentType(name)}
		if gz, ok := raw[name+".gz"]; ok {
			if same, err := gunzipEquals(gz, data); same {
				a.gz = gz
			} else {
				why := "it decompresses to different bytes (left from an older build?)"
				if err != nil {
					why = err.Error()
				}
				log.Warn("ignoring a stale precompressed file; rebuild it with gzip -9k", "file", name+".gz", "reason", why)
			}
		}
		if a.gz == nil && strings.HasSuffix(name, ".wasm") {
			start := time.Now()
			a.gz = gzipBytes(data)
			log.Info("compressed at start-up; build a .gz beside it to skip this", "file", name,
				"bytes", len(data), "gzip_bytes", len(a.gz), "took", time.Since(start).Round(time.Millisecond))
		}
		assets[name] = a
	}
	return assets, nil
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".webmanifest":
		return "application/manifest+json"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func gunzipEquals(gz, want []byte) (bool, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return false, err
	}
	got, err := io.ReadAll(io.LimitReader(r, int64(len(want))+1))
	if err != nil {
		return false, err
	}
	return bytes.Equal(got, want), nil
}

func gzipBytes(data []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return buf.Bytes()
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: listed (or "*")
// with a non-zero quality.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// UncompressedLengthHeader carries a gzip-served file's decoded length: go-app's
// loader reads it (Handler.WasmContentLengthHeader) to show app.wasm's download
// progress, since Content-Length is then the compressed length.
const UncompressedLengthHeader = "X-Uncompressed-Content-Length"

// serve answers a GET or HEAD for the asset, gzipped when the client accepts it. The
// URLs are not content-addressed, so the browser must revalidate (no-cache) and gets a
// 304 while the ETag matches; the service worker keeps its own copy for offline use.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	body, etag := a.data, `"`+a.sha256[:32]+`"`
	if a.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			// A different representation needs a different strong ETag.
			body, etag = a.gz, `"`+a.sha256[:32]+`-gz"`
			h.Set("Content-Encoding", "gzip")
			h.Set(UncompressedLengthHeader, strconv.Itoa(len(a.data)))
			// ServeContent leaves Content-Length out once Content-Encoding is set;
			// without it the download is chunked and shows no progress.
			if r.Header.Get("Range") == "" {
				h.Set("Content-Length", strconv.Itoa(len(a.gz)))
			}
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", a.modTime, bytes.NewReader(body))
}
