//go:build !(js && wasm)

package ui

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// Native stand-ins for browser_js.go and pool_js.go. The server only prerenders the
// pages, and components reach these functions from client-side hooks guarded by
// app.IsClient, so none of them runs; they exist so that the package compiles.

type (
	fileHandle    struct{}
	weightsHandle struct{}
	jsString      struct{}
	pool          struct{}
)

func isOnline() bool                        { return true }
func watchOnline(func(bool)) func()         { return func() {} }
func hardwareConcurrency() int              { return 1 }
func fetchModels() (api.ModelList, error)   { return api.ModelList{}, errNotBrowser }
func cachedWeights() map[string]bool        { return map[string]bool{} }
func revokeURLs(...string)                  {}
func download(string, string, []byte) error { return errNotBrowser }

func watchFiles(string, func(bool), func([]fileRef)) func() { return func() {} }

func loadWeights(api.Model) (weightsHandle, bool, error) {
	return weightsHandle{}, false, errNotBrowser
}

func startPool(int) (*pool, error)     { return nil, errNotBrowser }
func (*pool) load(weightsHandle) error { return errNotBrowser }
func (*pool) usable() bool             { return false }
func (*pool) size() int                { return 0 }
func (*pool) kernel() string           { return "" }
func (*pool) submit(job)               {}
func (*pool) close()                   {}

// Stand-ins for here-browser_js.go.

type hereRun struct{}

func startHere(api.JobRequest, int, string, bool, func(hereMsg)) (*hereRun, error) {
	return nil, errNotBrowser
}
func (*hereRun) control(string) error { return errNotBrowser }
func (*hereRun) stop()                {}
func deleteCached(string)             {}
func hasCached(string) bool           { return false }
func keepModel(string, []byte, []byte) (api.Model, error) {
	return api.Model{}, errNotBrowser
}

func publishModel(string, []byte, []byte, string) (api.Model, error) {
	return api.Model{}, errNotBrowser
}
func forgetImages() {}

func fetchSample(string) (fileRef, error) { return fileRef{}, errNotBrowser }

func revokeImages([][3]jsString)        {}
func showImages(app.Value, [3]jsString) {}
func jsText(jsString) string            { return "" }

func saveResult(storedResult, [3]jsString) error         { return errNotBrowser }
func loadResults() ([]storedResult, []keptImages, error) { return nil, nil, errNotBrowser }
func clearResults() error                                { return errNotBrowser }
