//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main exists so that `go build ./...` and `go vet ./...` pass on the host; the app
// itself runs in a browser, served by server/httpserver.
func main() {
	fmt.Fprintln(os.Stderr, "this is the browser app: build it with GOOS=js GOARCH=wasm go build -o web/app.wasm ./wasm")
	os.Exit(2)
}
