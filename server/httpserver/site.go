package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
	"github.com/ganomaly-go/ganomaly-go/wasm/ui"
)

// SiteMarker is the file that marks a folder as written by WriteSite, so that writing
// a site again may replace it, while any other non-empty folder is refused.
const SiteMarker = ".ganomaly-site"

// SiteReport says what WriteSite wrote.
type SiteReport struct {
	Dir        string   `json:"dir"`
	AppVersion string   `json:"app_version"`
	Files      []string `json:"files"` // relative to Dir, slash-separated
	Bytes      int64    `json:"bytes"`
	Models     []string `json:"models"`
}

// WriteSite writes the app as static files that any static host or CDN can serve with
// no server of ours: the pages (prerendered), go-app's files, the web files, the model
// list at api/models and the weights of every model this server offers. Scoring, the
// teaching view and offline use work from them; the Train page says that training needs
// the server (build the Server with Options.StaticSite).
//
// Every file is fetched through the server's own handler, in memory, so the site is
// byte for byte what the server would serve. Pages are written as index.html and
// <page>.html (hosts such as GitHub Pages, Netlify and Cloudflare Pages serve /teach
// from teach.html), and 404.html is the app too, so that a host's not-found page starts
// the app, which then routes on the client. The folder is built beside dir and swapped
// in at the end: a failure leaves any earlier site as it was.
func (s *Server) WriteSite(dir string) (*SiteReport, error) {
	if err := checkSiteDir(dir); err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	defer os.RemoveAll(tmp)
	// MkdirTemp makes it private (0700); a web server running as another user must
	// read it.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}

	rep := &SiteReport{Dir: dir, AppVersion: s.web.Version()}
	files := map[string]string{} // URL path → file, relative to the folder
	for _, page := range []string{ui.PathCheck, ui.PathTeach, ui.PathTrain} {
		if page == "/" {
			files["/"] = "index.html"
			continue
		}
		files[page] = strings.TrimPrefix(page, "/") + ".html"
	}
	for _, p := range []string{"/app.js", "/app-worker.js", "/manifest.webmanifest", "/wasm_exec.js", "/app.css", api.ModelsPath} {
		files[p] = strings.TrimPrefix(p, "/")
	}
	for _, name := range s.web.AssetNames() {
		files["/web/"+name] = "web/" + name
	}
	for _, m := range s.catalog.list() {
		u, err := url.Parse(m.URL)
		if err != nil {
			return nil, fmt.Errorf("site: model %s: %w", m.Name, err)
		}
		files[u.Path] = strings.TrimPrefix(u.Path, "/")
		if m.CardURL != "" {
			cu, err := url.Parse(m.CardURL)
			if err != nil {
				return nil, fmt.Errorf("site: model %s: %w", m.Name, err)
			}
			files[cu.Path] = strings.TrimPrefix(cu.Path, "/")
		}
		rep.Models = append(rep.Models, m.Name)
	}

	// What the service worker caches at install must all be there, or the app would
	// not install offline: a newer go-app adding a file fails here, not in a browser.
	sw, _, err := s.fetch("/app-worker.js", false)
	if err != nil {
		return nil, err
	}
	precached, err := precacheList(sw)
	if err != nil {
		return nil, err
	}
	for _, p := range precached {
		u, err := url.Parse(p)
		if err != nil || u.IsAbs() {
			return nil, fmt.Errorf("site: the service worker caches %q, which a static site cannot hold", p)
		}
		if _, ok := files[u.Path]; !ok {
			return nil, fmt.Errorf("site: the service worker caches %s, which the site writer does not know: update WriteSite", u.Path)
		}
	}

	paths := slices.Sorted(func(yield func(string) bool) {
		for p := range files {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range paths {
		body, _, err := s.fetch(p, false)
		if err != nil {
			return nil, err
		}
		names := []string{files[p]}
		if p == "/" {
			names = append(names, "404.html")
		}
		for _, name := range names {
			if err := writeSiteFile(tmp, name, body, rep); err != nil {
				return nil, err
			}
		}
		// Precompressed forms of the wasm programs, for hosts that serve them
		// (nginx gzip_static, Caddy's precompressed): 2.3 MB instead of 8.9.
		if strings.HasSuffix(p, ".wasm") {
			gz, encoded, err := s.fetch(p, true)
			if err != nil {
				return nil, err
			}
			if encoded {
				if err := writeSiteFile(tmp, files[p]+".gz", gz, rep); err != nil {
					return nil, err
				}
			}
		}
	}
	slices.Sort(rep.Files)
	marker, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(tmp, SiteMarker), marker, 0o644); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	if err := swapIn(tmp, dir); err != nil {
		return nil, err
	}
	return rep, nil
}

// fetch GETs p from the server's handler in memory; gzip asks for the gzip form.
func (s *Server) fetch(p string, gzip bool) (body []byte, encoded bool, err error) {
	req := httptest.NewRequest(http.MethodGet, p, nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, false, fmt.Errorf("site: GET %s answered %d: %s", p, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return rec.Body.Bytes(), rec.Header().Get("Content-Encoding") == "gzip", nil
}

var precacheRE = regexp.MustCompile(`const resourcesToCache = (\[.*?\]);`)

// precacheList reads the list of URLs go-app's service worker caches at install.
func precacheList(sw []byte) ([]string, error) {
	m := precacheRE.FindSubmatch(sw)
	if m == nil {
		return nil, errors.New("site: the service worker's list of files to cache was not found (has go-app's template changed?)")
	}
	var list []string
	if err := json.Unmarshal(m[1], &list); err != nil {
		return nil, fmt.Errorf("site: the service worker's list of files to cache: %w", err)
	}
	return list, nil
}

func writeSiteFile(root, name string, data []byte, rep *SiteReport) error {
	// name comes from the server's own routes and asset names, never from a request;
	// still, nothing may land outside the folder.
	clean := path.Clean(name)
	if clean != name || strings.HasPrefix(clean, "../") || path.IsAbs(clean) {
		return fmt.Errorf("site: refusing file name %q", name)
	}
	full := filepath.Join(root, filepath.FromSlash(clean))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if err := os.WriteFile(full, data, 0o644); err != nil {
		return fmt.Errorf("site: %w", err)
	}
	rep.Files = append(rep.Files, clean)
	rep.Bytes += int64(len(data))
	return nil
}

// checkSiteDir refuses to replace a folder that is neither empty nor an earlier site.
func checkSiteDir(dir string) error {
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("site: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("site: %s exists and is not a folder", dir)
	}
	if _, err := f.Readdirnames(1); errors.Is(err, io.EOF) {
		return nil // empty
	}
	marker, err := os.ReadFile(filepath.Join(dir, SiteMarker))
	if err != nil {
		return fmt.Errorf("site: %s is not empty and was not written by ganomaly site (no %s in it): choose an empty or new folder", dir, SiteMarker)
	}
	// An earlier site is replaced whole: files someone added since (a CNAME, a
	// .nojekyll, a .git) would be lost, so they stop it.
	var earlier SiteReport
	if err := json.Unmarshal(marker, &earlier); err != nil {
		return fmt.Errorf("site: %s: its %s is unreadable (%v): choose an empty or new folder", dir, SiteMarker, err)
	}
	ours := map[string]bool{SiteMarker: true}
	for _, f := range earlier.Files {
		ours[f] = true
	}
	var extra []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if rel = filepath.ToSlash(rel); !ours[rel] {
			extra = append(extra, rel)
		}
		return nil
	})
	if len(extra) > 0 {
		return fmt.Errorf("site: %s holds files an earlier ganomaly site did not write (%s): they would be lost with it; move them away or choose another folder", dir, strings.Join(extra[:min(5, len(extra))], ", "))
	}
	return nil
}

// swapIn puts the finished folder tmp at dir, replacing an earlier site there.
func swapIn(tmp, dir string) error {
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("site: %w", err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("site: %w", err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}
