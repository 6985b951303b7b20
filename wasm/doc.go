// Command wasm is the browser app's main program, built to web/app.wasm:
//
//	GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o web/app.wasm ./wasm
//
// It registers the routes of package ui and hands over to go-app. It must never
// reference app.Handler or anything else that pulls net/http in: that alone doubles
// app.wasm (go-app v9 cannot drop it). The server side lives in server/internal/webapp; the two
// mains share only package ui.
package main
