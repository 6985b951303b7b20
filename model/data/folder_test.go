package data

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// writePNG writes a size×size image whose every pixel is v.
func writePNG(t *testing.T, name string, v uint8, size int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			img.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	writeFile(t, name, b.Bytes())
}

func writeFile(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeFolder builds the official layout: normal images are dark (pixel 20), anomalies
// bright (230), so that a label can be checked from the pixels.
func makeFolder(t *testing.T, nTrain, nTestNormal, nTestAbnormal int) string {
	root := t.TempDir()
	for i := range nTrain {
		writePNG(t, filepath.Join(root, "train/0.normal", "n"+string(rune('a'+i%26))+string(rune('a'+i/26))+".png"), 20, 40)
	}
	for i := range nTestNormal {
		writePNG(t, filepath.Join(root, "test/0.normal", "t"+string(rune('a'+i))+".png"), 20, 24)
	}
	for i := range nTestAbnormal {
		writePNG(t, filepath.Join(root, "test/1.abnormal", "sub", "x"+string(rune('a'+i))+".PNG"), 230, 50)
	}
	return root
}

func TestLoadFolder(t *testing.T) {
	root := makeFolder(t, 30, 6, 4)
	writeFile(t, filepath.Join(root, "test/1.abnormal/broken.png"), []byte("not a png"))
	writeFile(t, filepath.Join(root, "train/0.normal/notes.txt"), []byte("hello"))
	writeFile(t, filepath.Join(root, "train/0.normal/.DS_Store"), []byte{0})

	s, err := Load(Options{Dataset: Folder, Dir: root, Size: 16, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.N != 27 || s.Validation.N != 3 || s.Test.N != 10 {
		t.Errorf("train %d, validation %d, test %d; want 27, 3, 10", s.Train.N, s.Validation.N, s.Test.N)
	}
	if n, a := s.Test.Count(); n != 6 || a != 4 {
		t.Errorf("test: %d normal, %d anomalous; want 6, 4", n, a)
	}
	if s.Train.Channels != 3 || s.Train.Size != 16 || s.AnomalyClass != "1.abnormal" || s.Dataset != Folder {
		t.Errorf("%d×%d×%d, class %q", s.Train.Channels, s.Train.Size, s.Train.Size, s.AnomalyClass)
	}
	warn := strings.Join(s.Warnings, "\n")
	if len(s.Warnings) != 2 || !strings.Contains(warn, "notes.txt") || !strings.Contains(warn, "test/1.abnormal/broken.png") ||
		!strings.Contains(warn, "skipped 1 of 5") || strings.Contains(warn, "DS_Store") {
		t.Errorf("warnings:\n%s", warn)
	}
	for _, set := range []*Set{s.Train, s.Validation, s.Test} {
		checkRange(t, "folder", set)
		for i := range set.N {
			bright := set.Image(i)[0] > 0
			if bright != set.Labels[i] || bright != strings.HasPrefix(set.Names[i], "test/1.abnormal/sub/") {
				t.Errorf("%s: label %v, first pixel %v", set.Names[i], set.Labels[i], set.Image(i)[0])
			}
		}
	}
	if slices.ContainsFunc(slices.Concat(s.Train.Names, s.Validation.Names), func(n string) bool { return !strings.HasPrefix(n, "train/0.normal/") }) {
		t.Error("train or validation image from outside train/0.normal")
	}

	// Grey, limited, no validation.
	g, err := Load(Options{Dataset: Folder, Dir: root, Channels: 1, MaxTrain: 5, MaxTest: 4, ValidationFraction: NoValidation})
	if err != nil {
		t.Fatal(err)
	}
	if g.Train.N != 5 || g.Validation.N != 0 || g.Test.N > 4 || g.Train.Channels != 1 || len(g.Train.Image(0)) != 32*32 {
		t.Errorf("limited grey: train %d, validation %d, test %d, %d channels", g.Train.N, g.Validation.N, g.Test.N, g.Train.Channels)
	}
	if n, a := g.Test.Count(); n == 0 || a == 0 {
		t.Errorf("limited test lost a label: %d normal, %d anomalous", n, a)
	}
}

func TestLoadFolderErrors(t *testing.T) {
	load := func(root string) error {
		_, err := Load(Options{Dataset: Folder, Dir: root, Size: 8})
		return err
	}
	// The test folders are optional: an empty or missing one means no known anomalies
	// (or no test normals), which model/train handles; train/0.normal is required.
	root := makeFolder(t, 3, 2, 0)
	if err := os.MkdirAll(filepath.Join(root, "test/1.abnormal"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "test/1.abnormal/readme.md"), []byte("x"))
	s, err := Load(Options{Dataset: Folder, Dir: root, Size: 16})
	if err != nil {
		t.Fatalf("no anomalies: %v", err)
	}
	if n, a := s.Test.Count(); n != 2 || a != 0 || s.AnomalyClass != "" || s.Train.N+s.Validation.N != 3 {
		t.Errorf("no anomalies: test %d normal, %d anomalous, class %q", n, a, s.AnomalyClass)
	}
	only := makeFolder(t, 12, 0, 0)
	if s, err := Load(Options{Dataset: Folder, Dir: only, Size: 16}); err != nil || s.Test.N != 0 || s.Train.N+s.Validation.N != 12 {
		t.Errorf("normal images alone: %v", err)
	}
	root = makeFolder(t, 0, 2, 2)
	if err := load(root); err == nil || !strings.Contains(err.Error(), "0.normal not found") || !strings.Contains(err.Error(), "train/0.normal, test/0.normal and test/1.abnormal") {
		t.Errorf("missing train folder: %v", err)
	}
	// Not a folder at all.
	if err := load(filepath.Join(root, "nope")); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("missing root: %v", err)
	}
	// Every image of a class broken.
	root = makeFolder(t, 3, 2, 0)
	writeFile(t, filepath.Join(root, "test/1.abnormal/a.png"), []byte("junk"))
	writeFile(t, filepath.Join(root, "test/1.abnormal/b.jpg"), nil)
	if err := load(root); err == nil || !strings.Contains(err.Error(), "none of the 2 images") {
		t.Errorf("all broken: %v", err)
	}
}

// TestLoadFolderFromFiles loads a folder data set from an fs.FS (images dropped into
// a browser) as from disk: broken and non-image files are skipped and said.
func TestLoadFolderFromFiles(t *testing.T) {
	disk := makeFolder(t, 12, 4, 3)
	mem := fstest.MapFS{}
	err := filepath.WalkDir(disk, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(disk, p)
		mem[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	mem["train/0.normal/broken.png"] = &fstest.MapFile{Data: []byte("not a png")}
	mem["train/0.normal/notes.txt"] = &fstest.MapFile{Data: []byte("notes")}
	o := Options{Dataset: Folder, Files: mem, Size: 16, Channels: 3, Seed: 1}
	fromMem, err := Load(o)
	if err != nil {
		t.Fatal(err)
	}
	fromDisk, err := Load(Options{Dataset: Folder, Dir: disk, Size: 16, Channels: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if fromMem.Train.N != fromDisk.Train.N || fromMem.Test.N != fromDisk.Test.N || !slices.Equal(fromMem.Test.Images, fromDisk.Test.Images) {
		t.Errorf("from memory: %d train, %d test; from disk: %d train, %d test", fromMem.Train.N, fromMem.Test.N, fromDisk.Train.N, fromDisk.Test.N)
	}
	w := strings.Join(fromMem.Warnings, "\n")
	if !strings.Contains(w, "broken.png") || !strings.Contains(w, "notes.txt") {
		t.Errorf("warnings %q: want the broken image and the text file named", w)
	}
}
