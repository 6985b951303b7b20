//go:build !(js && wasm)

package ui

import "github.com/ganomaly-go/ganomaly-go/wasm/api"

// Native stand-ins for train-browser_js.go: the server only prerenders the training
// page, whose browser work starts in client-side hooks behind app.IsClient.

func trainRequest(string, string, string, any) (int, string, error) { return 0, "", errNotBrowser }

func trainFollow(string, int, func(api.JobEvent), func(trainConn)) func() { return func() {} }
