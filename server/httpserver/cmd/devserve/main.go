// Command devserve runs the HTTP server for working on the browser app, without the
// trainer (server/cmd/ganomaly serve is the real main):
//
//	make web    # app.wasm, worker.wasm (SIMD) and worker-scalar.wasm, gzipped
//	go run ./server/httpserver/cmd/devserve -addr :8080 -models runs/models
//
// Run it from the repository root (it serves ./web). Ctrl-C shuts it down gracefully.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	models := flag.String("models", "", "folder of published models (<name>.safetensors + <name>.json); empty: the embedded default only")
	web := flag.String("web", "web", "folder of the built browser files")
	version := flag.String("version", "dev", "version reported by /api/models")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := httpserver.New(httpserver.Options{Addr: *addr, ModelsDir: *models, WebDir: *web, Version: *version, Logger: log,
		NoTraining: true}) // the training page says so; `ganomaly serve` trains
	if err != nil {
		fmt.Fprintln(os.Stderr, "devserve:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "devserve:", err)
		os.Exit(1)
	}
}
