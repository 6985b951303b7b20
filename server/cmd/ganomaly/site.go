package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

func newSiteCmd() *cobra.Command {
	var (
		out       string
		modelsDir string
		webDir    string
	)
	cmd := &cobra.Command{
		Use:   "site -o DIR",
		Short: "Write the browser app as static files for any static host or CDN",
		Long: `Write the app, its WebAssembly programs and the models as plain files that any
static host or CDN can serve (GitHub Pages, Netlify, S3, nginx, python -m http.server),
with no ganomaly server behind them, at the root of the host or domain (the app's
URLs are absolute: a GitHub project page under /repo/ does not work; a user or
organisation page, or a custom domain, does). Scoring, the teaching view and offline use work;
the Train page says that training needs the server.

The models are the embedded default model and, with --models-dir, every valid model in
that folder. Pages are written as index.html, teach.html and train.html, and 404.html is
the app as well, so that hosts which serve 404.html for unknown paths open every route.
The .wasm files also get precompressed .gz forms for hosts that serve those.

DIR must be new, empty, or a site written earlier by this command (it is replaced whole,
only once the new one is complete).`,
		Example: `  ganomaly site -o dist
  ganomaly site -o dist --models-dir runs
  cd dist && python3 -m http.server 8000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("site: give the folder to write with -o DIR")
			}
			opts := httpserver.Options{ModelsDir: modelsDir, NoTraining: true, StaticSite: true, Version: version,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			if err := setWeb(&opts, webDir); err != nil {
				return err
			}
			s, err := httpserver.New(opts)
			if err != nil {
				return err
			}
			rep, err := s.WriteSite(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d files (%.1f MB) to %s: app version %s, models %v\n", len(rep.Files), float64(rep.Bytes)/1e6, rep.Dir, rep.AppVersion, rep.Models)
			fmt.Fprintf(cmd.OutOrStdout(), "serve it with any static file server, e.g. (cd %s && python3 -m http.server 8000)\n", rep.Dir)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "folder to write (new, empty, or an earlier site)")
	cmd.Flags().StringVar(&modelsDir, "models-dir", "", "folder of models to include beside the embedded default (<name>.safetensors and <name>.json)")
	cmd.Flags().StringVar(&webDir, "web-dir", "", "folder of the built browser files (default: the files built into this binary)")
	return cmd
}
