package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
	"github.com/ganomaly-go/ganomaly-go/server/internal/jobs"
	"github.com/ganomaly-go/ganomaly-go/web"
)

func newServeCmd() *cobra.Command {
	o := httpserver.Options{Addr: ":8080", ModelsDir: "runs", Device: "auto"}
	var webDir string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the browser app, the model list and the weights files",
		Long: `Serve the browser app and every valid weights file in --models-dir (with its model
card), beside the embedded default model. Models published into the folder appear
without a restart.

Training jobs: the app's Train page (and POST /api/jobs) trains models on the server,
one at a time on --device, each in <models-dir>/jobs/<id>/, and publishes each
finished model into --models-dir. Starting and cancelling a job needs a token: the
server prints the one it generated at start, unless --token or $GANOMALY_TOKEN set one.

Stops gracefully on Ctrl-C or SIGTERM: a running job is interrupted (its checkpoint
stays) and can be resumed from the Train page after the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Version = version
			if err := setWeb(&o, webDir); err != nil {
				return err
			}
			if o.Token == "" {
				o.Token = os.Getenv(envToken) // not the flag's default: help would print it
			}
			if o.ModelsDir != "" {
				// A first start (a fresh clone has no runs/) gets an empty folder for
				// the models it will train, rather than an error.
				if err := os.MkdirAll(o.ModelsDir, 0o755); err != nil {
					return fmt.Errorf("serve: models folder: %w", err)
				}
			}
			s, err := httpserver.New(o)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", o.Addr)
			if err != nil {
				return fmt.Errorf("serve: %w (is another server on that port? choose one with --addr :PORT)", err)
			}
			cmd.Printf("ganomaly %s: open %s in a browser (models from %q; Ctrl-C stops)\n", version, browserURL(ln.Addr()), o.ModelsDir)
			switch tok := s.Token(); {
			case tok != "" && o.Token == "":
				cmd.Printf("training token (the Train page asks for it once; keep it private):\n  %s\n", tok)
			case tok != "":
				cmd.Printf("training token: the one set by --token or $%s (the Train page asks for it once)\n", envToken)
			}
			if s.Training() {
				cmd.Printf("training on device %q; jobs in %s\n", o.Device, filepath.Join(o.ModelsDir, "jobs"))
			}
			return s.ServeListener(cmd.Context(), ln)
		},
	}
	cmd.Flags().StringVar(&o.Addr, "addr", o.Addr, "address to listen on")
	cmd.Flags().StringVar(&o.ModelsDir, "models-dir", o.ModelsDir, "folder of published models (<name>.safetensors and <name>.json); empty: the default model only")
	cmd.Flags().StringVar(&webDir, "web-dir", "", "folder of the built browser files, for development (default: the files built into this binary)")
	cmd.Flags().StringVar(&o.Device, "device", o.Device, "device of training jobs: auto, cpu, cuda or cuda:N")
	cmd.Flags().StringVar(&o.Engine, "engine", o.Engine, `trainer of jobs: "libtorch" (CPU or CUDA) or "go" (pure Go, CPU); default: libtorch when this build has it, else go`)
	cmd.Flags().StringVar(&o.Token, "token", o.Token, "bearer token that starting and cancelling training jobs need, at least 16 characters (default: $"+envToken+", which ps does not show, unlike this flag; else a random one, printed at start)")
	cmd.Flags().BoolVar(&o.NoTraining, "no-training", false, "serve models only: no training jobs")
	cmd.Flags().IntVar(&o.KeepJobs, "keep-jobs", jobs.DefaultKeepJobs, "finished training jobs kept with their checkpoints; older ones are deleted (their models stay); -1 keeps all")
	cmd.Flags().DurationVar(&o.ReadTimeout, "read-timeout", 30*time.Second, "longest time to read a request, body included")
	cmd.Flags().DurationVar(&o.WriteTimeout, "write-timeout", 2*time.Minute, "longest time to write an ordinary response (event streams and weights downloads get their own)")
	cmd.Flags().IntVar(&o.MaxConnsPerClient, "max-conns-per-client", httpserver.DefaultMaxConnsPerClient, "open connections one IP address may hold; behind a proxy or a shared NAT every user counts as one client: raise it")
	cmd.Flags().IntVar(&o.MaxStreamsPerClient, "max-streams-per-client", httpserver.DefaultMaxStreamsPerClient, "open training event streams one IP address may hold")
	return cmd
}

// setWeb points o at the browser's files: the folder dir when given, else the files
// embedded in this binary (make build embeds them), else ./web when this binary was
// built without them and runs from the repository.
func setWeb(o *httpserver.Options, dir string) error {
	if dir != "" {
		o.WebDir = dir
		return nil
	}
	if fsys := web.FS(); fsys != nil {
		o.WebFS = fsys
		return nil
	}
	if st, err := os.Stat("web"); err == nil && st.IsDir() {
		o.WebDir = "web"
		return nil
	}
	return fmt.Errorf("this ganomaly was built without the browser's files (make build embeds them; a plain go build does not) and there is no ./web folder: give one with --web-dir")
}

// envToken names the environment variable that sets the training token.
const envToken = "GANOMALY_TOKEN"

// browserURL is the address a person can click: a wildcard listen address
// (":8080", "0.0.0.0:8080", "[::]:8080") is reachable as localhost.
func browserURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
