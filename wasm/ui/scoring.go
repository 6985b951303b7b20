package ui

import "errors"

// fileRef is one file the user gave: its handle (a browser File) and what a card
// shows before the file is read.
type fileRef struct {
	id     int // the batch item it fills, once added
	handle fileHandle
	name   string
	size   int64
}

// job asks a kernel worker to score one file.
type job struct {
	file fileRef
	// skip, when it reports true, drops the job unscored (its batch was cleared).
	skip func() bool
	// done receives the result, on the worker's goroutine.
	done func(scoreResult)
	// lean asks for the scores and images only, not the codes z, ẑ and x̂ (which the
	// teaching view needs and the check page's batch does not).
	lean bool
}

// scoreResult is what a kernel worker sends back for one file.
type scoreResult struct {
	Err        error
	Raw, Score float64
	Anomalous  bool
	Latents    latents
	// Images are data: URLs of the input as the model sees it, of x̂ and of |x − x̂|
	// (PNGs), as the worker's JavaScript strings. The check page hands them as they
	// are to its img elements and to IndexedDB: a copy into Go and back cost the page
	// a fifth of its time in a large batch (see showImages).
	Images [3]jsString
	// ScopeNote says how the image differs from what the model knows (see
	// inference.Outcome).
	ScopeNote string
}

// errNotBrowser is what the browser-only functions return in a native build (the
// server prerenders the pages; tests run natively).
var errNotBrowser = errors.New("only available in a browser")
