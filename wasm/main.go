//go:build js && wasm

package main

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"github.com/ganomaly-go/ganomaly-go/wasm/ui"
)

func main() {
	ui.Routes()
	app.RunWhenOnBrowser()
}
