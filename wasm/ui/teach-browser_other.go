//go:build !(js && wasm)

package ui

import (
	"errors"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// Native stand-in for teach-browser_js.go (see browser_other.go): never called.

func watchPicks([]string, func(string, fileRef)) func() { return func() {} }

func fetchCard(api.Model) ([]byte, error) { return nil, errors.New("no browser") }

func watchDrawing(string, func()) func()     { return func() {} }
func clearDrawing(string)                    {}
func drawingFile(string) (fileHandle, error) { return fileHandle{}, errors.New("no browser") }
