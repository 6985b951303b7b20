// Command ganomaly trains, evaluates, exports and serves GANomaly anomaly detectors.
//
//	ganomaly train  --dataset mnist --class 0          train, write weights + model card
//	ganomaly train  --classes 0-9 --epochs 1           one model per anomaly class, AUC table
//	ganomaly eval   runs/mnist-0-*.safetensors         test report of weights files (--sweep: table)
//	ganomaly score  digit.png ...                      score images with the pure-Go model
//	ganomaly export runs/x.ckpt -o x.safetensors       checkpoint → weights file
//	ganomaly import netG.pth --calibrate-dir normals/  official PyTorch checkpoint → weights file
//	ganomaly serve  --addr :8080 --models-dir runs     the browser app and the models
//	ganomaly site   -o dist                            the browser app as static files
//
// Training runs the protocol of model/train with one of its engines: libtorch through
// gotch (server/internal/torchengine, linked in by engine_torch.go, the default) or pure Go
// (--engine go, the browser's trainer). Built with the tag nolibtorch (and
// CGO_ENABLED=0), the binary has no libtorch and trains with the pure-Go engine. Eval and score use the pure-Go model (package model), the
// same code the browser runs. Only server/internal/torch and server/internal/torchengine import gotch,
// so package model and the browser build never reach cgo.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		var quiet quietError
		if !errors.As(err, &quiet) {
			fmt.Fprintln(os.Stderr, "ganomaly:", err)
		}
		os.Exit(1)
	}
}

// quietError is an error already reported on its own lines (score's per-file errors):
// main only sets the exit status.
type quietError struct{ error }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "ganomaly",
		Short: "GANomaly anomaly detection: train, evaluate, export, score, serve",
		Long: `GANomaly (Akcay et al., ACCV 2018) learns normal images only and flags images
whose latent code it cannot reproduce.

Training uses libtorch (gotch); scoring uses the pure-Go model that also runs in the
browser. Models are ganomaly-go weights files (safetensors) with a JSON model card
beside them.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newTrainCmd(), newEvalCmd(), newScoreCmd(), newExportCmd(), newImportCmd(), newServeCmd(), newSiteCmd())
	return root
}
