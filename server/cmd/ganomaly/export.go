package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ganomaly-go/ganomaly-go/server/train"
)

func newExportCmd() *cobra.Command {
	var (
		out, device string
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "export [flags] CHECKPOINT",
		Short: "Turn a training checkpoint into a weights file and model card",
		Long: `Export the best model of a training checkpoint (the checkpoint.safetensors that
train --checkpoint-dir writes, or its folder) as a weights file with its model card.
The data split the run used is loaded again to calibrate the score and to write the
test report, exactly as at the end of a run; nothing is trained.

An official PyTorch checkpoint (netG.pth from samet-akcay/ganomaly) is NOT readable:
it is a Python pickle, which only Python (torch.load) can open, and this program has
no importer for it. Its tensor names are the official ones this project uses, so a
few lines of Python could dump them to safetensors, but nothing here does that.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			if strings.HasSuffix(src, ".pth") || strings.HasSuffix(src, ".pt") {
				return fmt.Errorf("%s looks like a PyTorch checkpoint: it is a Python pickle that only Python can read; export is for checkpoints written by ganomaly train", src)
			}
			if err := train.ValidateDevice(device); err != nil {
				return err
			}
			rep := newReporter(cmd.OutOrStdout(), asJSON)
			res, err := train.Export(cmd.Context(), src, device, rep.event)
			rep.finish()
			if err != nil {
				return err
			}
			if out == "" {
				dir := filepath.Dir(train.CheckpointPath(src))
				out = filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".safetensors")
			}
			card, err := train.Save(res, out)
			if err != nil {
				return err
			}
			rep.result(res, out, card)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "weights file to write (default: <checkpoint folder>.safetensors beside the folder)")
	cmd.Flags().StringVar(&device, "device", "auto", "auto, cpu, cuda or cuda:N")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines even on a terminal")
	return cmd
}
