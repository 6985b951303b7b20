//go:build js && wasm

package ui

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// The training dashboard's doors to the server: fetch for the jobs API, EventSource
// for a job's events. As in browser_js.go, every call goes through safejs.

// trainRequest sends a request to the jobs API. err is set only when the server could
// not be reached; an HTTP error comes back as its status and body.
func trainRequest(method, path, token string, body any) (status int, text string, err error) {
	headers := map[string]any{"Accept": "application/json"}
	if token != "" {
		headers["Authorization"] = api.BearerToken(token)
	}
	init := map[string]any{"method": method, "headers": headers, "cache": "no-store"}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, "", err
		}
		headers["Content-Type"] = "application/json"
		init["body"] = string(b)
	}
	resp, err := call(global, "fetch", path, init)
	if err != nil {
		return 0, "", fmt.Errorf("cannot reach the server: %w", err)
	}
	textV, err := call(resp, "text")
	if err != nil {
		return 0, "", fmt.Errorf("reading the answer to %s %s: %w", method, path, err)
	}
	text, _ = textV.String()
	return int(getFloat(resp, "status")), text, nil
}

// trainFollow streams a job's events after sequence number after into onEvent, and
// the connection's state into onConn. EventSource reconnects by itself after a cut,
// sending Last-Event-ID, so nothing is lost; when it gives up (the server refused, or
// was gone long enough), a new one is opened after a pause, from the last event seen.
// The stream is closed after the job's end event. Both callbacks run inside the
// browser's event dispatch: they must hand on and return.
func trainFollow(id string, after int, onEvent func(api.JobEvent), onConn func(trainConn)) (stop func()) {
	var (
		mu      sync.Mutex
		stopped bool
		last    = after
		es      safejs.Value
		funcs   []safejs.Func
	)
	// closeLocked closes the current EventSource and frees its callbacks.
	closeLocked := func() {
		if !es.IsUndefined() && !es.IsNull() {
			es.Call("close")
		}
		for _, f := range funcs {
			f.Release()
		}
		funcs = nil
	}
	var open func()
	reopenLater := func() {
		go func() {
			time.Sleep(3 * time.Second)
			open()
		}()
	}
	open = func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		closeLocked()
		v, err := construct("EventSource", api.JobEventsFrom(id, last))
		if err != nil {
			onConn(trainConnFailed)
			return
		}
		es = v
		on := func(name string, fn func(e safejs.Value)) {
			f, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
				if len(args) > 0 {
					fn(args[0])
				}
				return nil
			})
			if err != nil {
				return
			}
			funcs = append(funcs, f)
			v.Set(name, f)
		}
		on("onopen", func(safejs.Value) { onConn(trainConnLive) })
		on("onmessage", func(e safejs.Value) {
			var ev api.JobEvent
			if json.Unmarshal([]byte(getString(e, "data")), &ev) != nil {
				return
			}
			mu.Lock()
			last = max(last, ev.Seq)
			if ev.Final() {
				// The stream ends here; without close, EventSource would reconnect.
				v.Call("close")
			}
			mu.Unlock()
			onEvent(ev)
			if ev.Final() {
				onConn(trainConnEnded)
			}
		})
		on("onerror", func(safejs.Value) {
			state := int(getFloat(v, "readyState"))
			onConn(trainConnReconnecting)
			if state == 2 { // CLOSED: EventSource gave up; try again from the last event
				mu.Lock()
				ended := stopped || !es.Equal(v)
				mu.Unlock()
				if !ended {
					reopenLater()
				}
			}
		})
	}
	open()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		closeLocked()
	}
}
