//go:build js && wasm

package ui

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/hack-pad/safejs"

	"github.com/ganomaly-go/ganomaly-go/wasm/api"
)

// watchPicks calls onFile with the first file picked in any of the file inputs ids
// (their change events bubble to the window, which survives go-app re-creating the
// inputs).
func watchPicks(ids []string, onFile func(id string, f fileRef)) (release func()) {
	return listen(global, "change", func(e safejs.Value) {
		input, err := e.Get("target")
		if err != nil {
			return
		}
		id := getString(input, "id")
		for _, want := range ids {
			if id != want {
				continue
			}
			if files, err := get(input, "files"); err == nil {
				if refs := fileRefs(files); len(refs) > 0 {
					onFile(id, refs[0])
				}
			}
			input.Set("value", "")
		}
	})
}

// fetchCard reads the model card of m from Cache Storage, or from the server into it,
// and checks it against the published hash (a damaged cache entry is evicted).
func fetchCard(m api.Model) ([]byte, error) {
	ab, err := cachedBuffer(m.CardURL, true)
	if err != nil {
		return nil, err
	}
	b, err := bufferBytes(ab)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); m.CardSHA256 != "" && hex.EncodeToString(sum[:]) != m.CardSHA256 {
		deleteCached(m.CardURL)
		return nil, errors.New("the card on this device is damaged; it will be fetched again")
	}
	return b, nil
}

// watchDrawing lets the pointer (mouse, pen or touch) draw white strokes on the black
// canvas id, as MNIST digits are drawn, and calls onChange as the drawing changes: at
// most every drawEvery while a stroke goes on, and at its end. The listeners are the
// window's, so that they outlive go-app re-creating the canvas; a stroke captures the
// pointer, so that it goes on outside the canvas.
func watchDrawing(id string, onChange func()) (release func()) {
	var (
		drawing bool
		lastX   float64
		lastY   float64
		last    time.Time
	)
	point := func(e safejs.Value) (canvas safejs.Value, x, y float64, ok bool) {
		canvas, err := e.Get("target")
		if err != nil || getString(canvas, "id") != id {
			return canvas, 0, 0, false
		}
		// Client pixels to canvas pixels: the canvas is drawn at its own resolution.
		rect, err := canvas.Call("getBoundingClientRect")
		if err != nil {
			return canvas, 0, 0, false
		}
		w, h := getFloat(rect, "width"), getFloat(rect, "height")
		if w <= 0 || h <= 0 {
			return canvas, 0, 0, false
		}
		x = (getFloat(e, "clientX") - getFloat(rect, "left")) * getFloat(canvas, "width") / w
		y = (getFloat(e, "clientY") - getFloat(rect, "top")) * getFloat(canvas, "height") / h
		return canvas, x, y, true
	}
	stroke := func(canvas safejs.Value, x0, y0, x1, y1 float64) {
		g, err := canvas.Call("getContext", "2d")
		if err != nil {
			return
		}
		g.Set("strokeStyle", "#fff")
		g.Set("lineWidth", getFloat(canvas, "width")/12)
		g.Set("lineCap", "round")
		g.Set("lineJoin", "round")
		g.Call("beginPath")
		g.Call("moveTo", x0, y0)
		g.Call("lineTo", x1, y1)
		g.Call("stroke")
	}
	releases := []func(){
		listen(global, "pointerdown", func(e safejs.Value) {
			canvas, x, y, ok := point(e)
			if !ok {
				return
			}
			e.Call("preventDefault")
			canvas.Call("setPointerCapture", getFloat(e, "pointerId"))
			drawing, lastX, lastY = true, x, y
			stroke(canvas, x, y, x, y)
		}),
		listen(global, "pointermove", func(e safejs.Value) {
			if !drawing {
				return
			}
			canvas, x, y, ok := point(e)
			if !ok {
				return
			}
			stroke(canvas, lastX, lastY, x, y)
			lastX, lastY = x, y
			if time.Since(last) >= drawEvery {
				last = time.Now()
				onChange()
			}
		}),
	}
	for _, end := range []string{"pointerup", "pointercancel"} {
		releases = append(releases, listen(global, end, func(e safejs.Value) {
			if !drawing {
				return
			}
			drawing = false
			last = time.Now()
			onChange()
		}))
	}
	return func() {
		for _, r := range releases {
			r()
		}
	}
}

// drawEvery is how often a drawing under way is scored again.
const drawEvery = 250 * time.Millisecond

// clearDrawing paints the canvas id black.
func clearDrawing(id string) {
	doc, err := global.Get("document")
	if err != nil {
		return
	}
	canvas, err := doc.Call("getElementById", id)
	if err != nil || canvas.IsNull() {
		return
	}
	g, err := canvas.Call("getContext", "2d")
	if err != nil {
		return
	}
	g.Set("fillStyle", "#000")
	g.Call("fillRect", 0, 0, getFloat(canvas, "width"), getFloat(canvas, "height"))
}

// drawingFile is the canvas id as a PNG file to score.
func drawingFile(id string) (fileHandle, error) {
	doc, err := global.Get("document")
	if err != nil {
		return safejs.Value{}, err
	}
	canvas, err := doc.Call("getElementById", id)
	if err != nil || canvas.IsNull() {
		return safejs.Value{}, errors.New("the drawing is gone")
	}
	url, err := canvas.Call("toDataURL", "image/png")
	if err != nil {
		return safejs.Value{}, err
	}
	s, _ := url.String()
	resp, err := call(global, "fetch", s)
	if err != nil {
		return safejs.Value{}, err
	}
	return call(resp, "blob")
}
