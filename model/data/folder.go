package data

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model/imageio"
)

// The official layout of a folder data set, as torchvision's ImageFolder reads it under
// root/train and root/test.
const (
	trainNormalDir  = "train/0.normal"
	testNormalDir   = "test/0.normal"
	testAbnormalDir = "test/1.abnormal"
)

// imageExts are the file extensions read as images (lower case): the formats
// imageio.Load decodes.
var imageExts = []string{".png", ".jpg", ".jpeg", ".gif", ".webp"}

// maxListed is how many paths a warning names.
const maxListed = 3

// source is one image file of a folder data set.
type source struct {
	rel   string // slash-separated path under the root
	class int    // index into classDirs
}

var classDirs = []string{trainNormalDir, testNormalDir, testAbnormalDir}

// loadFolder reads a folder in the official layout (on disk at o.Dir, or o.Files) and
// splits it.
func loadFolder(o Options) (*Split, error) {
	root, fsys := o.Dir, o.Files
	if fsys == nil {
		if st, err := os.Stat(root); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("data: folder data set %s is not a folder: want %s", root, layoutHint(root))
		}
		fsys = os.DirFS(root)
	}
	where := func(dir string) string { return path.Join(filepath.ToSlash(root), dir) }
	var files []source
	var byClass [3][]int
	var warnings []string
	for c, dir := range classDirs {
		if c > 0 {
			// The test folders are optional: without known anomalies a model is still
			// trained and calibrated on normals, only not tested (model/train).
			if _, err := fs.Stat(fsys, dir); errors.Is(err, fs.ErrNotExist) {
				continue
			}
		}
		rels, ignored, err := listImages(fsys, root, dir)
		if err != nil {
			return nil, err
		}
		if len(rels) == 0 && c == 0 {
			return nil, fmt.Errorf("data: %s holds no PNG, JPEG, GIF or WebP image; a folder data set needs %s",
				where(dir), layoutHint(root))
		}
		if len(ignored) > 0 {
			warnings = append(warnings, fmt.Sprintf("%s: ignored %d files that are not PNG, JPEG, GIF or WebP (by extension): %s",
				dir, len(ignored), listSome(ignored)))
		}
		for _, r := range rels {
			byClass[c] = append(byClass[c], len(files))
			files = append(files, source{rel: r, class: c})
		}
	}

	p := finish(byClass[0], byClass[1], byClass[2], o, newRand(o.Seed))

	var broken [3][]string // per class, "path: error"
	tried := [3]int{}
	build := func(normal, anomalous []int) *Set {
		all := slices.Concat(normal, anomalous)
		s := newSet(len(all), o.Channels, o.Size)
		errs := make([]error, len(all))
		parallel(len(all), func(k int) {
			errs[k] = decodeFile(s.Image(k), fsys, files[all[k]].rel, o.Size, o.Channels)
		})
		// Drop the images that failed, moving the others down.
		n := 0
		for k, i := range all {
			f := files[i]
			tried[f.class]++
			if errs[k] != nil {
				broken[f.class] = append(broken[f.class], fmt.Sprintf("%s (%s)", f.rel, imageio.UserMessage(errs[k])))
				continue
			}
			if n != k {
				copy(s.Image(n), s.Image(k))
			}
			s.Labels[n], s.Names[n] = k >= len(normal), f.rel
			n++
		}
		s.N, s.Images, s.Labels, s.Names = n, s.Images[:n*s.ImageLen()], s.Labels[:n], s.Names[:n]
		return s
	}
	split := &Split{
		Train:      build(p.train, nil),
		Validation: build(p.validation, nil),
		Test:       build(p.testNormal, p.testAnomalous),
		Watch:      watchSet(p.watch, build),
		Dataset:    Folder,
		Dir:        root,
	}
	if split.Test.N > 0 && len(p.testAnomalous) > 0 {
		split.AnomalyClass = path.Base(testAbnormalDir)
	}
	for c, dir := range classDirs {
		if len(broken[c]) == 0 {
			continue
		}
		if len(broken[c]) == tried[c] {
			return nil, fmt.Errorf("data: none of the %d images read from %s could be decoded: %s",
				tried[c], where(dir), listSome(broken[c]))
		}
		warnings = append(warnings, fmt.Sprintf("%s: skipped %d of %d images that could not be decoded: %s",
			dir, len(broken[c]), tried[c], listSome(broken[c])))
	}
	split.Warnings = warnings
	if split.Train.N == 0 {
		return nil, fmt.Errorf("data: no training image left in %s", where(trainNormalDir))
	}
	return split, nil
}

func layoutHint(root string) string {
	return fmt.Sprintf("images in %s, %s and %s under %s",
		trainNormalDir, testNormalDir, testAbnormalDir, root)
}

// listImages returns the image files under dir of fsys (a folder data set rooted at
// root, named in messages), recursively, in lexical order, as slash-separated paths
// relative to the root, and the other files it ignored. Hidden files and folders
// (".DS_Store", ".git") are skipped silently.
func listImages(fsys fs.FS, root, dir string) (images, ignored []string, err error) {
	if st, err := fs.Stat(fsys, dir); err != nil || !st.IsDir() {
		return nil, nil, fmt.Errorf("data: folder %s not found: a folder data set needs %s", path.Join(filepath.ToSlash(root), dir), layoutHint(root))
	}
	err = fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if slices.Contains(imageExts, strings.ToLower(path.Ext(p))) {
			images = append(images, p)
		} else {
			ignored = append(ignored, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("data: listing %s: %w", path.Join(filepath.ToSlash(root), dir), err)
	}
	return images, ignored, nil
}

// decodeFile reads the image file name of fsys into dst as CHW floats in [-1, 1] at
// size×size.
func decodeFile(dst []float32, fsys fs.FS, name string, size, channels int) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	t, err := imageio.Load(b, size, channels)
	if err != nil {
		return err
	}
	if len(t) != len(dst) {
		return fmt.Errorf("decoded to %d floats, want %d", len(t), len(dst))
	}
	copy(dst, t)
	return nil
}

// listSome joins the first few items, saying how many more there are.
func listSome(items []string) string {
	s := strings.Join(items[:min(len(items), maxListed)], "; ")
	if len(items) > maxListed {
		s += fmt.Sprintf("; and %d more", len(items)-maxListed)
	}
	return s
}
