package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/server/onnxexport"
)

// exportONNX writes the generator of the weights file src as ONNX at out (default: src
// with .onnx). It refuses to overwrite a file unless force.
func exportONNX(w io.Writer, src, out string, force bool) error {
	f, err := model.ReadWeightsFile(src)
	if err != nil {
		if strings.HasSuffix(src, ".pth") || strings.HasSuffix(src, ".pt") {
			return fmt.Errorf("%w\n(an official PyTorch checkpoint: turn it into a weights file with `ganomaly import %s` first)", err, src)
		}
		return fmt.Errorf("%w\n(--onnx exports a weights file (.safetensors); for a training checkpoint, run export without --onnx first)", err)
	}
	if out == "" {
		out = strings.TrimSuffix(src, filepath.Ext(src)) + ".onnx"
	}
	if !force {
		if _, err := os.Stat(out); err == nil {
			return fmt.Errorf("%s exists: choose another -o or pass --force to replace it", out)
		}
	}
	if err := onnxexport.WriteFile(out, f, onnxexport.Options{ProducerVersion: version}); err != nil {
		return err
	}
	st, _ := os.Stat(out)
	cfg, cal := f.Config, f.Calibration
	fmt.Fprintf(w, "wrote %s (%.1f MB): ONNX opset %d, input x [N,%d,%d,%d] in [−1, 1]; outputs xhat, z, zhat [N,%d,1,1], score [N]\n",
		out, float64(st.Size())/1e6, onnxexport.Opset, cfg.Channels, cfg.ImageSize, cfg.ImageSize, cfg.Latent)
	if cal.Calibrated() {
		fmt.Fprintf(w, "anomalous when score ≥ %.6g (metadata_props %s; calibration in %s)\n", cal.Threshold, onnxexport.MetaThreshold, onnxexport.MetaCalibration)
	} else {
		fmt.Fprintln(w, "this model is uncalibrated: the file has no threshold (calibrate it with ganomaly import --calibrate-dir)")
	}
	return nil
}
