package data

import "fmt"

// Set is a batch of images in one flat slice. Image i occupies
// Images[i·L : (i+1)·L] with L = Channels·Size·Size, laid out CHW, row-major:
// pixel (c, y, x) of image i is Images[i·L + c·Size·Size + y·Size + x]. Values lie in
// [-1, 1], the range of the generator's Tanh.
type Set struct {
	Images []float32
	// Labels[i] is true when image i is anomalous.
	Labels            []bool
	N, Channels, Size int
	// Names identifies where each image came from ("train/123" for the 124th image of
	// an idx train file, the slash-separated path under the root for a folder); it
	// may be nil.
	Names []string
}

// ImageLen is the number of floats per image, Channels·Size·Size.
func (s *Set) ImageLen() int { return s.Channels * s.Size * s.Size }

// Image returns image i as a sub-slice of Images (not a copy); its capacity ends with
// the image, so an append cannot overwrite the next one.
func (s *Set) Image(i int) []float32 {
	if i < 0 || i >= s.N {
		panic(fmt.Sprintf("data: image %d out of range [0, %d)", i, s.N))
	}
	l := s.ImageLen()
	return s.Images[i*l : (i+1)*l : (i+1)*l]
}

// Batch copies the images at indices, in order, into dst (grown when too short) and
// returns it: len(indices)·ImageLen floats, NCHW, ready to be copied into a tensor.
func (s *Set) Batch(dst []float32, indices []int) []float32 {
	l := s.ImageLen()
	n := len(indices) * l
	if cap(dst) < n {
		dst = make([]float32, n)
	}
	dst = dst[:n]
	for k, i := range indices {
		copy(dst[k*l:(k+1)*l], s.Image(i))
	}
	return dst
}

// Count returns the number of normal and anomalous images.
func (s *Set) Count() (normal, anomalous int) {
	for _, l := range s.Labels {
		if l {
			anomalous++
		}
	}
	return s.N - anomalous, anomalous
}

// Split is a data set divided by the protocol (see the package documentation).
type Split struct {
	// Train holds normal images only; Validation holds normal images taken from the
	// train normals (empty when the options ask for none); Test holds normal images
	// first, then the anomalous ones.
	Train, Validation, Test *Set
	// Watch holds anomalies taken from the test set to watch training by
	// (Options.WatchFraction); nil when none were asked for.
	Watch *Set
	// Dataset is Options.Dataset; AnomalyClass names the anomalous class ("0" to "9"
	// for MNIST, "T-shirt/top" and so on for Fashion-MNIST, "1.abnormal" for a folder).
	Dataset, AnomalyClass string
	// Dir is the folder the images were read from.
	Dir string
	// Warnings lists what was skipped (unreadable images, files that are not
	// images); the load went on without them.
	Warnings []string
}
