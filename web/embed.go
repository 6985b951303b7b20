//go:build embedweb

package web

import (
	"embed"
	"io/fs"
)

// The patterns name every kind of file the app needs, so that a build without the
// built wasm programs fails here, at compile time, instead of at the first visit.
//
//go:embed app.css icon.svg icon-192.png icon-512.png worker.js app.wasm app.wasm.gz worker.wasm worker.wasm.gz worker-scalar.wasm worker-scalar.wasm.gz data/mnist-pack.gz samples
var files embed.FS

// FS returns the embedded web files.
func FS() fs.FS { return files }
