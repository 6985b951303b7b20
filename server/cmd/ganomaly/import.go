package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/data"
	"github.com/ganomaly-go/ganomaly-go/model/pth"
	"github.com/ganomaly-go/ganomaly-go/model/train"
)

type importFlags struct {
	out, dataset, dataDir, dir string
	class                      int
	dataSeed                   int64
	validation, quantile       float64
	force, json                bool
}

func newImportCmd() *cobra.Command {
	f := &importFlags{}
	cmd := &cobra.Command{
		Use:   "import [flags] netG.pth",
		Short: "Turn an official PyTorch GANomaly checkpoint (netG.pth) into a weights file",
		Long: `Import the generator checkpoint that the official PyTorch code (samet-akcay/ganomaly)
saves as netG.pth, and write it as a weights file that score, serve and the browser
use (default: the checkpoint's name with .safetensors, beside it).

Accepted: a torch.save file, zip (PyTorch ≥ 1.6) or legacy format, holding
{"epoch": N, "state_dict": ...} as the official code saves it, or a bare state dict;
the names must be the official NetG's (encoder1, decoder, encoder2), with a
"module." prefix (DataParallel) allowed. Image size, channels, latent size, width and
extra layers are read from the tensors' shapes. float32, float64, float16 and bfloat16
weights are read as float32.

Refused, with a message saying why: a pickle that refers to anything but tensors and
dicts (a pickle can run code: nothing in it is ever run here), a whole model saved with
torch.save(model) instead of its state_dict(), TorchScript, a discriminator (netD.pth),
tensors that are missing, extra or of the wrong shape, NaN or Inf weights, damaged or
truncated files.

An official checkpoint has no score calibration: without one, the model gives raw
scores and no verdict. To calibrate it on normal images:

  --calibrate mnist --class K     the validation normals of MNIST (or fashion-mnist)
                                  with class K held out, split as ganomaly train splits
                                  it (data seed 0, validation fraction 0.1 by default);
                                  threshold at the 0.95 quantile of their scores
  --calibrate-dir FOLDER          every image in FOLDER (PNG, JPEG, GIF, WebP; not its
                                  subfolders), all normal: at least 2, better hundreds;
                                  files that cannot be read are skipped and listed

The official code trained on its own random split, so some of these images may have
been in its training set: such images score lower than new ones, and the threshold
may come out low (more false alarms). Normal images the model has never seen give
the most honest threshold.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fl := cmd.Flags(); fl.Changed("calibrate") != fl.Changed("class") {
				return errors.New("--calibrate and --class go together: --calibrate mnist --class K, K the anomaly class the checkpoint was trained without")
			}
			return runImport(cmd.Context(), f, args[0], cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVarP(&f.out, "out", "o", "", "weights file to write (default: the checkpoint's name with .safetensors, beside it)")
	fl.BoolVar(&f.force, "force", false, "overwrite an existing weights file (and remove the model card beside it)")
	fl.StringVar(&f.dataset, "calibrate", "", `calibrate on a data set's validation normals: "mnist" or "fashion-mnist" (needs --class)`)
	fl.IntVar(&f.class, "class", 0, "the anomaly class held out, 0-9, for --calibrate")
	fl.StringVar(&f.dataDir, "data-dir", "", "folder of the data set's idx files for --calibrate (found automatically for mnist)")
	fl.Int64Var(&f.dataSeed, "data-seed", 0, "seed of the data split for --calibrate (ganomaly train's default: 0)")
	fl.Float64Var(&f.validation, "validation-fraction", data.DefaultValidationFraction, "share of train normals in the validation split for --calibrate")
	fl.StringVar(&f.dir, "calibrate-dir", "", "calibrate on every image in this folder, all normal")
	fl.Float64Var(&f.quantile, "calibration-quantile", 0.95, "threshold at this quantile of the normal images' scores")
	fl.BoolVar(&f.json, "json", false, "print one JSON object")
	return cmd
}

// importDefaultOut is the checkpoint's path with .safetensors instead of its extension.
func importDefaultOut(src string) string {
	return strings.TrimSuffix(src, filepath.Ext(src)) + ".safetensors"
}

func runImport(ctx context.Context, f *importFlags, src string, stdout io.Writer) error {
	switch {
	case f.dataset != "" && f.dir != "":
		return errors.New("give --calibrate or --calibrate-dir, not both")
	case f.dataset != "" && f.dataset != data.MNIST && f.dataset != data.FashionMNIST:
		return fmt.Errorf("--calibrate %q: use %q or %q (for a folder of normal images, --calibrate-dir)", f.dataset, data.MNIST, data.FashionMNIST)
	case f.dataset != "" && (f.class < 0 || f.class > 9):
		return fmt.Errorf("--class %d: use 0 to 9", f.class)
	case !(f.quantile > 0 && f.quantile < 1):
		return fmt.Errorf("--calibration-quantile %v: use a value in (0, 1), e.g. 0.95 to flag about 5 %% of normal images", f.quantile)
	case !(f.validation > 0 && f.validation < 1):
		return fmt.Errorf("--validation-fraction %v: use a value in (0, 1)", f.validation)
	}
	out := f.out
	if out == "" {
		out = importDefaultOut(src)
	}
	card := train.CardPath(out)
	if filepath.Clean(out) == filepath.Clean(src) || filepath.Clean(card) == filepath.Clean(src) {
		return fmt.Errorf("the output %s (and its model card %s) would replace the checkpoint: give another -o", out, card)
	}
	if !f.force {
		for _, p := range []string{out, card} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s exists: give another -o, or --force to replace it", p)
			}
		}
	}

	b, err := readLimited(src, pth.MaxFileSize)
	if err != nil {
		return err
	}
	ck, err := pth.Read(b)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	w, err := ck.Weights(filepath.Base(src))
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	res := importResult{Kind: "import", Checkpoint: src, Weights: out, Format: ck.Format, Config: w.Config}
	if ck.HasEpoch {
		res.Epoch = &ck.Epoch
	}
	progress := io.Discard
	if !f.json {
		res.printHeader(stdout, w)
		progress = stdout
	}
	switch {
	case f.dataset != "":
		err = calibrateOnDataset(ctx, w, f, &res, progress)
	case f.dir != "":
		err = calibrateOnFolder(ctx, w, f, &res, progress)
	}
	if err != nil {
		return err
	}
	res.Calibration = w.Calibration
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := w.WriteFile(out); err != nil {
		return err
	}
	// A card left by the model this file replaces would describe the wrong model.
	if err := os.Remove(card); err == nil {
		res.RemovedCard = card
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("wrote %s, but could not remove the model card of the model it replaced: %w", out, err)
	}
	res.print(stdout, f.json)
	return nil
}

// readLimited reads a whole file, refusing one larger than limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	b, err := io.ReadAll(io.LimitReader(fd, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d MiB: not a GANomaly checkpoint", path, limit>>20)
	}
	return b, nil
}

type importResult struct {
	Kind        string            `json:"kind"`
	Checkpoint  string            `json:"checkpoint"`
	Weights     string            `json:"weights"`
	Format      string            `json:"format"`
	Epoch       *int              `json:"epoch,omitempty"`
	Config      model.Config      `json:"config"`
	Calibration model.Calibration `json:"calibration"`
	// CalibratedOn describes the normal images, Skipped the files that could not be
	// read among them.
	CalibratedOn string   `json:"calibrated_on,omitempty"`
	Skipped      []string `json:"skipped,omitempty"`
	RemovedCard  string   `json:"removed_card,omitempty"`
}

// printHeader describes the checkpoint read, before any calibration.
func (r *importResult) printHeader(w io.Writer, f *model.WeightsFile) {
	c := r.Config
	epoch := "no epoch recorded"
	if r.Epoch != nil {
		epoch = fmt.Sprintf("epoch %d", *r.Epoch)
	}
	params := 0
	for _, v := range f.Tensors {
		params += len(v)
	}
	fmt.Fprintf(w, "%s: official GANomaly generator (%s format, %s): %d×%d, %d channel(s), latent %d, width %d, extra layers %d; %d parameters\n",
		r.Checkpoint, r.Format, epoch, c.ImageSize, c.ImageSize, c.Channels, c.Latent, c.Width, c.ExtraLayers, params)
}

// print reports the result: one JSON object, or the lines after printHeader's.
func (r *importResult) print(w io.Writer, asJSON bool) {
	if asJSON {
		_ = json.NewEncoder(w).Encode(r)
		return
	}
	cal := r.Calibration
	if cal.Calibrated() {
		fmt.Fprintf(w, "calibrated on %s: raw scores %.6g to %.6g, threshold %.6g (%.3f on the [0,1] scale)\n",
			r.CalibratedOn, cal.Min, cal.Max, cal.Threshold, cal.NormalizedThreshold())
	}
	fmt.Fprintf(w, "wrote %s\n", r.Weights)
	if r.RemovedCard != "" {
		fmt.Fprintf(w, "removed %s, the model card of the model it replaced\n", r.RemovedCard)
	}
	if !cal.Calibrated() {
		fmt.Fprintf(w, `
UNCALIBRATED: this model has no threshold. It gives raw anomaly scores only (higher
is more anomalous), no score in [0, 1] and no verdict. To calibrate it, import again
with normal images it was not trained on:
  ganomaly import --force --calibrate mnist --class K %s     (K: its anomaly class)
  ganomaly import --force --calibrate-dir FOLDER %s          (a folder of normal images)
`, r.Checkpoint, r.Checkpoint)
	}
}

// calibrateOnDataset scores the validation normals of an idx data set with the
// anomaly class held out, split exactly as ganomaly train splits it.
func calibrateOnDataset(ctx context.Context, w *model.WeightsFile, f *importFlags, res *importResult, progress io.Writer) error {
	fmt.Fprintf(progress, "reading %s (class %d held out)...\n", f.dataset, f.class)
	split, err := data.Load(data.Options{
		Dataset: f.dataset, Dir: f.dataDir, AnomalyClass: f.class,
		Size: w.Config.ImageSize, Channels: w.Config.Channels,
		Seed: f.dataSeed, ValidationFraction: f.validation,
	})
	if err != nil {
		return err
	}
	v := split.Validation
	if v == nil || v.N < 2 {
		return fmt.Errorf("the validation split of %s has %d images: at least 2 are needed", f.dataset, setLen(v))
	}
	fmt.Fprintf(progress, "scoring its %d validation normals with the pure-Go model...\n", v.N)
	scores, err := scoreImages(ctx, w, v.Images, v.N)
	if err != nil {
		return err
	}
	class := data.ClassName(f.dataset, f.class)
	res.CalibratedOn = fmt.Sprintf("%d validation normals of %s (class %s held out, data seed %d, validation fraction %g)", v.N, f.dataset, class, f.dataSeed, f.validation)
	w.Provenance.Dataset, w.Provenance.AnomalyClass, w.Provenance.Seed = f.dataset, class, f.dataSeed
	return calibrate(w, scores, f.quantile, res.CalibratedOn)
}

// calibrateOnFolder scores every image file in a folder of normal images.
func calibrateOnFolder(ctx context.Context, w *model.WeightsFile, f *importFlags, res *importResult, progress io.Writer) error {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return fmt.Errorf("--calibrate-dir: %w", err)
	}
	cfg := w.Config
	var images []float32
	n := 0
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !slices.Contains([]string{".png", ".jpg", ".jpeg", ".gif", ".webp"}, ext) {
			continue
		}
		path := filepath.Join(f.dir, e.Name())
		x, err := readImage(path, cfg)
		if err != nil {
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", path, err))
			fmt.Fprintf(progress, "skipped %s: %v\n", path, err)
			continue
		}
		images = append(images, x...)
		n++
	}
	if n < 2 {
		return fmt.Errorf("--calibrate-dir %s: %d usable images (PNG, JPEG, GIF or WebP; %d skipped): at least 2 normal images are needed, a few hundred give a steady threshold", f.dir, n, len(res.Skipped))
	}
	fmt.Fprintf(progress, "scoring %d images of %s with the pure-Go model...\n", n, f.dir)
	scores, err := scoreImages(ctx, w, images, n)
	if err != nil {
		return err
	}
	res.CalibratedOn = fmt.Sprintf("%d normal images of the folder %s", n, filepath.Base(filepath.Clean(f.dir)))
	w.Provenance.Dataset = "folder:" + filepath.Base(filepath.Clean(f.dir))
	return calibrate(w, scores, f.quantile, res.CalibratedOn)
}

func calibrate(w *model.WeightsFile, scores []float64, q float64, on string) error {
	cal, err := model.CalibrateFromNormals(scores, w.Calibration.Score, q)
	if err != nil {
		return err
	}
	cal.Method = fmt.Sprintf("imported official checkpoint, calibrated on %s with eval-mode batch norm; min and max map to 0 and 1, threshold at their %g quantile; the official code trained on its own split, which may include some of these images", on, q)
	w.Calibration = cal
	w.Provenance.Notes += "; " + cal.Method
	return nil
}

// scoreBatch is the number of images per forward pass when calibrating.
const scoreBatch = 64

// scoreImages returns the raw score of each of the n CHW images, in order, with the
// pure-Go generator (one per worker: a Generator is not safe for concurrent use).
func scoreImages(ctx context.Context, w *model.WeightsFile, images []float32, n int) ([]float64, error) {
	l := w.Config.InputLen()
	scores := make([]float64, n)
	batches := (n + scoreBatch - 1) / scoreBatch
	workers := min(runtime.GOMAXPROCS(0), batches)
	dets := make([]*model.Detector, workers)
	for i := range dets { // before any goroutine starts, so that an error leaves none behind
		var err error
		if dets[i], err = model.NewDetector(w); err != nil {
			return nil, err
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var scoreErr error
	var errOnce sync.Once
	for _, det := range dets {
		wg.Go(func() {
			var res []model.Result
			for b := range next {
				lo, hi := b*scoreBatch, min(n, (b+1)*scoreBatch)
				var err error
				if res, err = det.Score(res[:0], images[lo*l:hi*l], hi-lo); err != nil {
					errOnce.Do(func() { scoreErr = fmt.Errorf("calibration image batch from %d: %w", lo+1, err) })
					continue // keep draining next so that the sender is not left waiting
				}
				for i, r := range res {
					scores[lo+i] = r.Raw
				}
			}
		})
	}
	var err error
	for b := range batches {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- b
	}
	close(next)
	wg.Wait()
	if err == nil {
		err = scoreErr
	}
	return scores, err
}

// setLen is the number of images of a set that may be nil.
func setLen(s *data.Set) int {
	if s == nil {
		return 0
	}
	return s.N
}
