package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

// ganomalyOps is added to the prepared libtch: the libtorch calls the trainer needs
// that gotch does not bind (leaky_relu with a slope, a whole Adam step, zero_grad).
// It is added after the stubbing, so a compile error in it fails the build loudly
// instead of turning a function into a stub.
//
//go:embed libtch/ganomaly_ops.cpp
var ganomalyOps []byte

const ganomalyOpsFile = "ganomaly_ops.cpp"

// ballast is the line of gotch v0.8.0's ts.newTensor that gives every tensor handle
// a 100 KB Go allocation, so that the Go heap grows with the C tensors and the
// collector runs their finalizers. This project frees its tensors explicitly
// (server/internal/torchengine: a step's through its scope, a run's own when the
// run ends); for it the ballast only cost time: 20 of the 25 µs each libtorch op
// took through gotch, and a fifth of a training step at width 16 (about 560 tensors
// per step).
var ballast = []byte("\tx.d = new(bigStruct)\n")

// extend adds ganomaly_ops.cpp to the copy's libtch and takes the ballast out of
// its ts.newTensor. Finding the ballast line other than once is an error: a new
// gotch version needs this step looked at again.
func extend(copyDir string) error {
	if err := os.WriteFile(filepath.Join(copyDir, "libtch", ganomalyOpsFile), ganomalyOps, 0o644); err != nil {
		return err
	}
	path := filepath.Join(copyDir, "ts", "tensor.go")
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if n := bytes.Count(src, ballast); n != 1 {
		return fmt.Errorf("%s: found gotch's per-tensor ballast %d times, want once (a gotch version this step does not know?)", path, n)
	}
	src = bytes.Replace(src, ballast, []byte("\t// gotchprep: no 100 KB ballast per tensor (see server/cmd/gotchprep/extend.go)\n"), 1)
	return os.WriteFile(path, src, 0o644)
}
