package main

import (
	"fmt"
	"github.com/spf13/cobra"
	"net"

	"github.com/ganomaly-go/ganomaly-go/server/httpserver"
)

func newServeCmd() *cobra.Command {
	o := httpserver.Options{Addr: ":8080", ModelsDir: "runs", WebDir: "web"}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the browser app, the model list and the weights files",
		Long: `Serve the browser app and every valid weights file in --models-dir (with its model
card), beside the embedded default model. Models published into the folder appear
without a restart. Stops gracefully on Ctrl-C or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Version = version
			s, err := httpserver.New(o)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", o.Addr)
			if err != nil {
				return fmt.Errorf("serve: %w (is another server on that port? choose one with --addr :PORT)", err)
			}
			cmd.Printf("ganomaly %s: open %s in a browser (models from %q; Ctrl-C stops)\n", version, browserURL(ln.Addr()), o.ModelsDir)
			return s.ServeListener(cmd.Context(), ln)
		},
	}
	cmd.Flags().StringVar(&o.Addr, "addr", o.Addr, "address to listen on")
	cmd.Flags().StringVar(&o.ModelsDir, "models-dir", o.ModelsDir, "folder of published models (<name>.safetensors and <name>.json); empty: the default model only")
	cmd.Flags().StringVar(&o.WebDir, "web-dir", o.WebDir, "folder of the built browser files")
	return cmd
}

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
