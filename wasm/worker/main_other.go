//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main exists so that `go build ./...` and `go vet ./...` pass on the host; the
// program itself only makes sense inside a browser's Web Worker.
func main() {
	fmt.Fprintln(os.Stderr, "worker runs in a browser Web Worker: build it with GOOS=js GOARCH=wasm go build -o web/worker.wasm ./wasm/worker")
	os.Exit(2)
}
