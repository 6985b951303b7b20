// Package inference is the work a kernel worker does for the browser app, in plain Go:
// hold one model, and turn the bytes of one image file into everything a result card
// shows (scores, verdict, latent vectors, the input as the model sees it, the
// reconstruction and the heat map as PNGs).
//
// It has no syscall/js so that it is tested natively; wasm/worker wraps it for the
// browser. It is also the reference the browser tests compare against only indirectly:
// they recompute scores with package model and imageio directly.
package inference
