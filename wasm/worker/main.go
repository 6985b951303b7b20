//go:build js && wasm

package main

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/hack-pad/safejs"

	"github.com/ganomaly-go/ganomaly-go/model/imageio"

	"github.com/ganomaly-go/ganomaly-go/wasm/internal/inference"
)

var (
	session *inference.Session
	global  = safejs.Global()
)

func main() {
	for name, fn := range map[string]func(arg safejs.Value) (safejs.Value, error){
		"ganomalyLoad":      load,
		"ganomalyScoreMany": scoreMany,
		// Training (train.go): each takes the page's message and answers {ok} or {error}.
		"ganomalyTrainLead":    done(trainLead),
		"ganomalyTrainFollow":  done(trainFollow),
		"ganomalyTrainControl": done(trainControl),
		"ganomalyExit":         exit,
	} {
		f, err := safejs.FuncOf(guard(fn))
		if err != nil {
			panic(err)
		}
		if err := global.Set(name, f.Value()); err != nil {
			panic(err)
		}
	}
	// The functions above are all this program does; block so that they stay callable.
	select {}
}

// exit ends this program with the code it is given, the way a crash (out of memory)
// ends it: the page must notice and replace the worker. worker.js calls it only when
// the page starts it with ?exitAfter=N, which tests set (localStorage
// "ganomaly.exitAfter").
func exit(code safejs.Value) (safejs.Value, error) {
	c, err := code.Int()
	if err != nil {
		return safejs.Value{}, err
	}
	os.Exit(c)
	return safejs.Value{}, nil
}

// done makes a function that only succeeds or fails answer {ok: true} on success.
func done(fn func(msg safejs.Value) error) func(safejs.Value) (safejs.Value, error) {
	return func(msg safejs.Value) (safejs.Value, error) {
		if err := fn(msg); err != nil {
			return safejs.Value{}, err
		}
		return object(map[string]any{"ok": true})
	}
}

// guard turns a function of one argument (a Uint8Array, or a message) into a JS callback that always returns an
// object: a panic inside a safejs.FuncOf callback would kill the worker's Go program
// for good, so it becomes {error} like any other failure.
func guard(fn func(arg safejs.Value) (safejs.Value, error)) func(this safejs.Value, args []safejs.Value) any {
	return func(_ safejs.Value, args []safejs.Value) (result any) {
		defer func() {
			if p := recover(); p != nil {
				result = errorObject(fmt.Errorf("internal error in the kernel worker: %v", p))
			}
		}()
		if len(args) != 1 {
			return errorObject(errors.New("internal error: want one argument"))
		}
		v, err := fn(args[0])
		if err != nil {
			return errorObject(err)
		}
		return v
	}
}

func load(arg safejs.Value) (safejs.Value, error) {
	data, err := bytesFromJS(arg)
	if err != nil {
		return safejs.Value{}, err
	}
	s, err := inference.Load(data)
	if err != nil {
		return safejs.Value{}, err
	}
	session = s
	cfg := s.Detector().Config()
	return object(map[string]any{"ok": true, "imageSize": cfg.ImageSize, "channels": cfg.Channels, "latent": cfg.Latent})
}

// scoreMany scores msg.files (an Array of Uint8Arrays) in one pass of the model and
// answers an Array of what score answers for each, without the codes z, ẑ and x̂ when
// msg.lean is true: a batch makes wider matrix products, and one message instead of
// one per image.
func scoreMany(msg safejs.Value) (safejs.Value, error) {
	if session == nil {
		return safejs.Value{}, errors.New("internal error: no model loaded in this worker")
	}
	arg, err := msg.Get("files")
	if err != nil {
		return safejs.Value{}, err
	}
	leanV, _ := msg.Get("lean")
	lean, _ := leanV.Bool()
	n, err := arg.Length()
	if err != nil {
		return safejs.Value{}, fmt.Errorf("internal error: argument is not an Array: %w", err)
	}
	files := make([][]byte, n)
	for i := range n {
		u8, err := arg.Index(i)
		if err != nil {
			return safejs.Value{}, err
		}
		if files[i], err = bytesFromJS(u8); err != nil {
			return safejs.Value{}, err
		}
	}
	outs, errs := session.ScoreMany(files)
	list, err := global.Get("Array")
	if err != nil {
		return safejs.Value{}, err
	}
	arr, err := list.New(n)
	if err != nil {
		return safejs.Value{}, err
	}
	for i := range n {
		var v any
		if o, err := outcomeObject(outs[i], errs[i], lean); err != nil {
			v = errorObject(err)
		} else {
			v = o
		}
		if err := arr.SetIndex(i, v); err != nil {
			return safejs.Value{}, err
		}
	}
	return arr, nil
}

// outcomeObject is the reply for one image: its figures and images (and its codes
// unless lean), or the error in the words of the person who gave the file.
func outcomeObject(o *inference.Outcome, err error, lean bool) (safejs.Value, error) {
	if err != nil {
		return safejs.Value{}, errors.New(imageio.UserMessage(err))
	}
	fields := map[string]any{"raw": o.Raw, "score": o.Score, "anomalous": o.Anomalous, "scopeNote": o.ScopeNote,
		// The images go as data: URLs, which the page shows and keeps as they are. A
		// Blob, and a blob: URL for it, each cost a round trip to the browser's blob
		// registry (about 1 ms: a quarter of the page's time in a large batch, and a
		// tenth of a worker's); a string of a few kilobytes costs next to nothing.
		"inputURL": pngDataURL(o.InputPNG), "reconURL": pngDataURL(o.ReconPNG), "heatURL": pngDataURL(o.HeatPNG)}
	if lean {
		return object(fields)
	}
	for name, b := range map[string][]byte{
		"z": floatBytes(o.Z), "zhat": floatBytes(o.ZHat), "xhat": floatBytes(o.XHat),
	} {
		var err error
		if fields[name], err = bytesToJS(b); err != nil {
			return safejs.Value{}, err
		}
	}
	return object(fields)
}

// pngDataURL is a data: URL of PNG bytes (1.5 to 4.3 KB for a 32×32 preview).
func pngDataURL(b []byte) string {
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
}

// object makes a plain JS object. safejs.ValueOf does not take safejs.Values inside
// maps, so fields are set one by one.
func object(fields map[string]any) (safejs.Value, error) {
	ctor, err := global.Get("Object")
	if err != nil {
		return safejs.Value{}, err
	}
	o, err := ctor.New()
	if err != nil {
		return safejs.Value{}, err
	}
	for k, v := range fields {
		if err := o.Set(k, v); err != nil {
			return safejs.Value{}, fmt.Errorf("setting %s: %w", k, err)
		}
	}
	return o, nil
}

func errorObject(err error) any {
	o, e := object(map[string]any{"error": err.Error()})
	if e != nil {
		return nil // worker.js reports a missing reply as an internal error
	}
	return o
}

func bytesFromJS(u8 safejs.Value) ([]byte, error) {
	n, err := u8.Length()
	if err != nil {
		return nil, fmt.Errorf("internal error: argument is not a Uint8Array: %w", err)
	}
	b := make([]byte, n)
	if _, err := safejs.CopyBytesToGo(b, u8); err != nil {
		return nil, fmt.Errorf("internal error: copying the argument: %w", err)
	}
	return b, nil
}

func bytesToJS(b []byte) (safejs.Value, error) {
	ctor, err := global.Get("Uint8Array")
	if err != nil {
		return safejs.Value{}, err
	}
	u8, err := ctor.New(len(b))
	if err != nil {
		return safejs.Value{}, err
	}
	if _, err := safejs.CopyBytesToJS(u8, b); err != nil {
		return safejs.Value{}, err
	}
	return u8, nil
}

// floatBytes lays out f as little-endian float32 bytes, which a Float32Array over the
// same buffer reads directly (every browser is little-endian).
func floatBytes(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}
