//go:build !(js && wasm)

package ui

// Native stand-in for teach-browser_js.go (see browser_other.go): never called.

func watchPicks([]string, func(string, fileRef)) func() { return func() {} }
