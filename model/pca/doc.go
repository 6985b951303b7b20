// Package pca finds the principal axes of a set of vectors: the mean and the
// directions of largest variance, from an eigendecomposition of the covariance by
// cyclic Jacobi rotations. It is meant for small dimensions (a GANomaly latent of
// about 100): the trainer fits a 2-D map of latent codes with it once, and the model
// card carries the basis to the browser, which only projects.
package pca
