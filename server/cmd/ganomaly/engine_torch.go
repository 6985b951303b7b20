//go:build !nolibtorch

package main

// The libtorch engine, registered with model/train as "libtorch". A build with the
// tag nolibtorch leaves it out: no cgo, no libtorch, training in pure Go.
import _ "github.com/ganomaly-go/ganomaly-go/server/internal/torchengine"
