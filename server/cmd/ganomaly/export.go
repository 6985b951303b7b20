package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ganomaly-go/ganomaly-go/model/train"
)

func newExportCmd() *cobra.Command {
	var (
		out, device  string
		asJSON, onnx bool
		force        bool
	)
	cmd := &cobra.Command{
		Use:   "export [flags] CHECKPOINT | export --onnx [-o OUT.onnx] WEIGHTS.safetensors",
		Short: "Turn a training checkpoint into a weights file, or a weights file into ONNX",
		Long: `Export the best model of a training checkpoint (the checkpoint.safetensors that
train --checkpoint-dir writes, or its folder) as a weights file with its model card.
The data split the run used is loaded again to calibrate the score and to write the
test report, exactly as at the end of a run; nothing is trained.

With --onnx, export the generator of a weights file as ONNX (opset 13) for onnxruntime
and other runtimes: input x [N, C, H, W] float32 in [−1, 1], outputs xhat [N, C, H, W],
z and zhat [N, nz, 1, 1] and score [N] (the raw anomaly score), batch axis dynamic,
batch norm as BatchNormalization with the running statistics, official PyTorch names.
The config, provenance and calibration go into metadata_props (ganomaly.threshold:
an image is anomalous when its score is at or above it).

For an official PyTorch checkpoint (netG.pth from samet-akcay/ganomaly), use ganomaly import.`,
		Example: `  ganomaly export runs/mnist-3-20261129/ -o mnist-3.safetensors
  ganomaly export --onnx -o model.onnx weights/default.safetensors`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			if onnx {
				return exportONNX(cmd.OutOrStdout(), src, out, force)
			}
			if strings.HasSuffix(src, ".pth") || strings.HasSuffix(src, ".pt") {
				return fmt.Errorf("%s looks like a PyTorch checkpoint: export is for checkpoints of ganomaly train; import it with: ganomaly import %s", src, src)
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
	cmd.Flags().StringVarP(&out, "out", "o", "", "file to write (default: <checkpoint folder>.safetensors beside the folder; with --onnx, WEIGHTS with .onnx)")
	cmd.Flags().BoolVar(&onnx, "onnx", false, "export a weights file's generator as ONNX instead")
	cmd.Flags().BoolVar(&force, "force", false, "with --onnx: replace an existing output file")
	cmd.Flags().StringVar(&device, "device", "auto", "auto, cpu, cuda or cuda:N")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines even on a terminal")
	return cmd
}
