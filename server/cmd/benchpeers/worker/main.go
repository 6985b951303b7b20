// Command worker is our side of `make bench-peers`: the pure-Go generator behind the
// same line protocol as the peers' workers (server/peers), built natively and for
// js/wasm (run under Node), so that both are timed exactly as the peers are.
//
// It reads one JSON request per line on stdin and answers one JSON line on stdout:
//
//	{"op":"load","name":N,"weights":W.safetensors,"input":X.f32}   → {"ok":true}
//	{"op":"run","name":N,"batch":B,"iters":K,"out":DIR}             → {"ok":true,"seconds":S}
//
// run times K forward passes of the first B images of the input; with out set, it
// writes that batch's z, xhat and zhat to DIR/{z,xhat,zhat}.f32 (little-endian float32).
// It imports the model package only, so that it builds for js/wasm.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/server/cmd/benchpeers/internal/rawf32"
)

type request struct {
	Op      string `json:"op"`
	Name    string `json:"name"`
	Weights string `json:"weights"`
	Input   string `json:"input"`
	Batch   int    `json:"batch"`
	Iters   int    `json:"iters"`
	Out     string `json:"out"`
}

type reply struct {
	OK      bool    `json:"ok"`
	Seconds float64 `json:"seconds,omitempty"`
	Error   string  `json:"error,omitempty"`
}

type loaded struct {
	gen *model.Generator
	x   []float32
}

func main() {
	models := map[string]*loaded{}
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		var rep reply
		err := json.Unmarshal(in.Bytes(), &req)
		if err == nil {
			rep.Seconds, err = handle(models, req)
		}
		rep.OK = err == nil
		if err != nil {
			rep.Error = err.Error()
		}
		if err := out.Encode(rep); err != nil {
			os.Exit(1)
		}
	}
}

func handle(models map[string]*loaded, req request) (float64, error) {
	switch req.Op {
	case "load":
		f, err := model.ReadWeightsFile(req.Weights)
		if err != nil {
			return 0, err
		}
		gen, err := model.NewGenerator(f.Config, f.Tensors)
		if err != nil {
			return 0, err
		}
		x, err := rawf32.Read(req.Input)
		if err != nil {
			return 0, err
		}
		models[req.Name] = &loaded{gen: gen, x: x}
		return 0, nil
	case "run":
		m := models[req.Name]
		if m == nil {
			return 0, fmt.Errorf("model %q not loaded", req.Name)
		}
		per := m.gen.Config().InputLen()
		if req.Batch < 1 || req.Batch*per > len(m.x) || req.Iters < 1 {
			return 0, fmt.Errorf("batch %d, iters %d: the input holds %d images", req.Batch, req.Iters, len(m.x)/per)
		}
		start := time.Now()
		for range req.Iters {
			m.gen.Forward(m.x, req.Batch)
		}
		seconds := time.Since(start).Seconds()
		if req.Out != "" {
			z, xhat, zhat := m.gen.Forward(m.x, req.Batch)
			for name, v := range map[string][]float32{"z": z, "xhat": xhat, "zhat": zhat} {
				if err := rawf32.Write(filepath.Join(req.Out, name+".f32"), v); err != nil {
					return 0, err
				}
			}
		}
		return seconds, nil
	}
	return 0, fmt.Errorf("unknown op %q", req.Op)
}
