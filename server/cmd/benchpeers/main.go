// Command benchpeers is `make bench-peers`: the ruler of our speed. It times the
// GANomaly generator forward pass, on the same weights and the same seeded inputs,
// in one run with rounds alternating between runtimes:
//
//	go-native   our pure-Go model, native (GOMAXPROCS=1), SIMD kernels
//	go-wasm     our pure-Go model compiled to js/wasm, in Node, SIMD kernels
//	go-*-scalar the same with the scalar kernels (a build without GOEXPERIMENT=simd)
//	ort-node    onnxruntime-node on our exported ONNX file, 1 thread
//	ort-web     onnxruntime-web's wasm backend (SIMD) in Node, 1 thread
//	torch       PyTorch (Debian's python3-torch) eval mode, 1 thread
//
// every one pinned to CPU 0 (the machine's cores differ in speed) and each a worker
// process that loads the models once and then answers timing requests (see
// worker/main.go, server/peers/ort-worker.mjs and torch_worker.py). It prints
// ms/image, GFLOP/s and our ratio to each peer (peer time ÷ our time: above 1 we
// are faster), and checks that every runtime's z, x̂ and ẑ agree with ours.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/server/cmd/benchpeers/internal/rawf32"
	"github.com/ganomaly-go/ganomaly-go/server/onnxexport"
	"github.com/ganomaly-go/ganomaly-go/weights"
)

func main() {
	var (
		rounds      = flag.Int("rounds", 5, "rounds; each times every runtime once per model and batch, in turn")
		target      = flag.Duration("target", 400*time.Millisecond, "about how long one timing lasts (iterations are chosen from a warm-up)")
		widthsFlag  = flag.String("widths", "64,16", "generator widths to time: 64 is the official generator (seeded DCGAN weights), 16 the embedded default model")
		batchesFlag = flag.String("batches", "1,64", "batch sizes")
		runnersFlag = flag.String("runners", "go-native,go-wasm,go-native-scalar,go-wasm-scalar,ort-node,ort-web,torch", "runtimes to time")
		nativeBin   = flag.String("worker", ".build/bench/worker", "our worker, native build (SIMD)")
		wasmBin     = flag.String("worker-wasm", ".build/bench/worker.wasm", "our worker, js/wasm build (SIMD)")
		wasmExec    = flag.String("wasm-exec", "", "wasm_exec_node.js of the Go that built -worker-wasm (default: this Go's)")
		peersDir    = flag.String("peers", "server/peers", "folder of the peers' workers and node_modules")
		python      = flag.String("python", "/usr/bin/python3", "Python with torch (Debian's python3-torch)")
		cpu         = flag.String("cpu", "0", "CPU list every worker is pinned to (taskset -c); empty: no pinning")
		keep        = flag.String("keep", "", "write the weights, ONNX files and inputs into this folder and keep them (default: a temporary folder, removed)")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: benchpeers [flags]\n\n%s\nflags:\n", strings.TrimSpace(usage))
		flag.PrintDefaults()
	}
	flag.Parse()
	widths, err1 := ints(*widthsFlag)
	batches, err2 := ints(*batchesFlag)
	if err := errors.Join(err1, err2); err != nil {
		fail(err)
	}
	b := &bench{rounds: *rounds, target: *target, batches: batches, tty: term.IsTerminal(int(os.Stderr.Fd()))}
	if err := b.prepare(widths, *keep); err != nil {
		fail(err)
	}
	if *keep == "" {
		defer os.RemoveAll(b.dir)
	}
	for _, name := range strings.Split(*runnersFlag, ",") {
		r, err := startRunner(strings.TrimSpace(name), *cpu, *nativeBin, *wasmBin, *wasmExec, *peersDir, *python)
		if err != nil {
			fail(err)
		}
		defer r.close()
		b.runners = append(b.runners, r)
	}
	if err := b.run(); err != nil {
		fail(err)
	}
	if !b.report(os.Stdout) {
		os.Exit(1)
	}
}

const usage = `
Times our pure-Go generator against onnxruntime (node and web/wasm) and PyTorch on the
same weights and inputs, alternating rounds, and prints ms/image, GFLOP/s and ratios.
make bench-peers builds the workers and installs the peers first.`

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchpeers:", err)
	os.Exit(1)
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%q: want a comma-separated list of positive integers", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// benchModel is one generator under test, with its files for every runtime.
type benchModel struct {
	name          string
	cfg           model.Config
	weights, onnx string
	input         string
	flops         float64 // per image
	description   string
}

type bench struct {
	tty     bool // stderr is a terminal: progress on one line
	dir     string
	rounds  int
	target  time.Duration
	batches []int
	models  []*benchModel
	runners []*runner
	// times[model][batch][runner] holds seconds per image, one per round.
	times map[string]map[int]map[string][]float64
	// agree[model][runner] is the max |runner − go-native| over z, x̂, ẑ at the
	// largest batch, and the largest value it compares.
	agree map[string]map[string][2]float64
}

// prepare writes, for each width, the weights file, its ONNX export and the inputs.
func (b *bench) prepare(widths []int, keep string) error {
	dir, err := keep, os.MkdirAll(keep, 0o755)
	if keep == "" {
		dir, err = os.MkdirTemp("", "benchpeers-")
	}
	if err != nil {
		return err
	}
	b.dir = dir
	maxBatch := slices.Max(b.batches)
	for _, w := range widths {
		var f *model.WeightsFile
		desc := ""
		if data, _ := weights.Default(); w == 16 {
			if f, err = model.ReadWeights(data); err != nil {
				return err
			}
			desc = "embedded default model"
		}
		if f == nil || f.Config.Width != w {
			cfg := model.DefaultConfig()
			cfg.Width = w
			if err := cfg.Validate(); err != nil {
				return err
			}
			f = &model.WeightsFile{Config: cfg, Calibration: model.Uncalibrated(model.ScoreMSE),
				Tensors: model.InitTensors(cfg.Generator().Params(), rand.New(rand.NewPCG(1, uint64(w))))}
			desc = "official architecture, seeded DCGAN weights"
		}
		m := &benchModel{name: fmt.Sprintf("w%d", w), cfg: f.Config, flops: float64(f.Config.FLOPs()), description: desc}
		m.weights = filepath.Join(dir, m.name+".safetensors")
		m.onnx = filepath.Join(dir, m.name+".onnx")
		m.input = filepath.Join(dir, m.name+".x.f32")
		if err := f.WriteFile(m.weights); err != nil {
			return err
		}
		if err := onnxexport.WriteFile(m.onnx, f, onnxexport.Options{ProducerVersion: "benchpeers"}); err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(42, uint64(w)))
		x := make([]float32, maxBatch*f.Config.InputLen())
		for i := range x {
			x[i] = float32(2*rng.Float64() - 1)
		}
		if err := rawf32.Write(m.input, x); err != nil {
			return err
		}
		b.models = append(b.models, m)
	}
	return nil
}

func (b *bench) run() error {
	b.times = map[string]map[int]map[string][]float64{}
	b.agree = map[string]map[string][2]float64{}
	iters := map[string]int{} // per model, batch and runner, from the warm-up
	key := func(m *benchModel, batch int, r *runner) string { return fmt.Sprint(m.name, "/", batch, "/", r.name) }
	for _, m := range b.models {
		b.times[m.name] = map[int]map[string][]float64{}
		for _, r := range b.runners {
			if err := r.load(m); err != nil {
				return err
			}
		}
		for _, batch := range b.batches {
			b.times[m.name][batch] = map[string][]float64{}
			for _, r := range b.runners {
				// Warm-up: the first runs pay for allocation, JIT and caches.
				sec, err := r.time(m, batch, 2, "")
				if err != nil {
					return err
				}
				iters[key(m, batch, r)] = max(1, int(b.target.Seconds()/(sec/2)))
			}
		}
		if err := b.checkAgreement(m); err != nil {
			return err
		}
	}
	total := b.rounds * len(b.models) * len(b.batches) * len(b.runners)
	done := 0
	start := time.Now()
	for round := 1; round <= b.rounds; round++ {
		for _, m := range b.models {
			for _, batch := range b.batches {
				for _, r := range b.runners {
					n := iters[key(m, batch, r)]
					sec, err := r.time(m, batch, n, "")
					if err != nil {
						return err
					}
					b.times[m.name][batch][r.name] = append(b.times[m.name][batch][r.name], sec/float64(n*batch))
					done++
					if b.tty {
						eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(total-done))
						fmt.Fprintf(os.Stderr, "\rround %d/%d  %3d%%  ETA %s   ", round, b.rounds, 100*done/total, eta.Round(time.Second))
					}
				}
			}
		}
		if !b.tty {
			eta := time.Duration(float64(time.Since(start)) / float64(done) * float64(total-done))
			fmt.Fprintf(os.Stderr, "round %d/%d done, ETA %s\n", round, b.rounds, eta.Round(time.Second))
		}
	}
	if b.tty {
		fmt.Fprintln(os.Stderr)
	}
	return nil
}

// checkAgreement runs the largest batch once on every runtime and compares its
// outputs with ours, natively.
func (b *bench) checkAgreement(m *benchModel) error {
	batch := slices.Max(b.batches)
	outs := map[string]map[string][]float32{}
	for _, r := range b.runners {
		dir := filepath.Join(b.dir, m.name+"-"+r.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if _, err := r.time(m, batch, 1, dir); err != nil {
			return err
		}
		outs[r.name] = map[string][]float32{}
		for _, o := range []string{"z", "xhat", "zhat"} {
			v, err := rawf32.Read(filepath.Join(dir, o+".f32"))
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			outs[r.name][o] = v
		}
	}
	ref, ok := outs["go-native"]
	if !ok { // compare with the first runtime instead
		ref = outs[b.runners[0].name]
	}
	b.agree[m.name] = map[string][2]float64{}
	for name, out := range outs {
		var diff, scale float64
		for o, v := range out {
			if len(v) != len(ref[o]) {
				return fmt.Errorf("%s gives %d values of %s, ours %d", name, len(v), o, len(ref[o]))
			}
			for i := range v {
				diff = math.Max(diff, math.Abs(float64(v[i])-float64(ref[o][i])))
				scale = math.Max(scale, math.Abs(float64(ref[o][i])))
			}
		}
		b.agree[m.name][name] = [2]float64{diff, scale}
	}
	return nil
}

// agreementTolerance bounds |runtime − ours| relative to the largest value: float32
// sums of up to 4096 products in another order (and PyTorch's own convolution
// algorithms) differ by a few ulps of the largest value, not more.
const agreementTolerance = 1e-4

func (b *bench) report(w io.Writer) bool {
	ok := true
	fmt.Fprintf(w, "\nGANomaly generator forward, %d rounds alternating, every runtime pinned to one CPU, 1 thread; figures are medians (min–max) over rounds\n", b.rounds)
	for _, m := range b.models {
		fmt.Fprintf(w, "\n%s: %dx%dx%d, nz %d, width %d, %.1f MFLOP/image (%s)\n", m.name, m.cfg.Channels, m.cfg.ImageSize, m.cfg.ImageSize,
			m.cfg.Latent, m.cfg.Width, m.flops/1e6, m.description)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "batch\truntime\tms/image\t(min–max)\tGFLOP/s\tgo-native ratio\tgo-wasm ratio\t")
		for _, batch := range b.batches {
			med := map[string]float64{}
			for _, r := range b.runners {
				med[r.name] = median(b.times[m.name][batch][r.name])
			}
			for _, r := range b.runners {
				ts := b.times[m.name][batch][r.name]
				ratio := func(ours string) string {
					if strings.HasPrefix(r.name, "go-") || med[ours] == 0 {
						return ""
					}
					return fmt.Sprintf("%.2f×", med[r.name]/med[ours])
				}
				fmt.Fprintf(tw, "%d\t%s\t%.3f\t(%.3f–%.3f)\t%.2f\t%s\t%s\t\n", batch, r.name, 1e3*med[r.name],
					1e3*slices.Min(ts), 1e3*slices.Max(ts), m.flops/med[r.name]/1e9, ratio("go-native"), ratio("go-wasm"))
			}
		}
		tw.Flush()
		fmt.Fprintf(w, "outputs (z, x̂, ẑ at batch %d) against go-native:", slices.Max(b.batches))
		for _, r := range b.runners {
			a := b.agree[m.name][r.name]
			verdict := "ok"
			if a[0] > agreementTolerance*math.Max(1, a[1]) {
				verdict, ok = "DISAGREES", false
			}
			fmt.Fprintf(w, "  %s %.2g %s;", r.name, a[0], verdict)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nratio = peer's ms/image ÷ ours: above 1× we are faster than that peer, below 1× slower.")
	b.summary(w)
	return ok
}

// summary gives each of our builds against the peers it competes with: the browser
// build against onnxruntime-web, the native one against PyTorch and onnxruntime-node.
func (b *bench) summary(w io.Writer) {
	pairs := []struct{ ours, peer string }{{"go-wasm", "ort-web"}, {"go-native", "torch"}, {"go-native", "ort-node"},
		{"go-wasm", "go-wasm-scalar"}, {"go-native", "go-native-scalar"}}
	fmt.Fprintln(w, "\nsummary, our speed as a fraction of the peer's:")
	for _, m := range b.models {
		for _, batch := range b.batches {
			fmt.Fprintf(w, "  %s batch %-3d", m.name, batch)
			for _, p := range pairs {
				ours, peer := median(b.times[m.name][batch][p.ours]), median(b.times[m.name][batch][p.peer])
				if ours > 0 && peer > 0 {
					fmt.Fprintf(w, "  %s %.2f× %s", p.ours, peer/ours, p.peer)
				}
			}
			fmt.Fprintln(w)
		}
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// runner is one runtime's worker process.
type runner struct {
	name string
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	errs *strings.Builder
}

func startRunner(name, cpu, nativeBin, wasmBin, wasmExec, peersDir, python string) (*runner, error) {
	var argv []string
	env := os.Environ()
	// The scalar workers sit beside the SIMD ones: worker-scalar, worker-scalar.wasm.
	scalar := func(bin string) string {
		ext := filepath.Ext(bin)
		return strings.TrimSuffix(bin, ext) + "-scalar" + ext
	}
	thisGoExec := func() (string, error) {
		goroot, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return "", fmt.Errorf("%s: go env GOROOT: %w", name, err)
		}
		return filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec_node.js"), nil
	}
	switch name {
	case "go-native", "go-native-scalar":
		bin := nativeBin
		if name == "go-native-scalar" {
			bin = scalar(bin)
		}
		argv = []string{bin}
		env = append(env, "GOMAXPROCS=1")
	case "go-wasm", "go-wasm-scalar":
		bin, execJS := wasmBin, wasmExec
		if name == "go-wasm-scalar" {
			bin, execJS = scalar(bin), ""
		}
		if execJS == "" {
			var err error
			if execJS, err = thisGoExec(); err != nil {
				return nil, err
			}
		}
		argv = []string{"node", "--stack-size=8192", execJS, bin}
	case "ort-node", "ort-web":
		argv = []string{"node", filepath.Join(peersDir, "ort-worker.mjs"), strings.TrimPrefix(name, "ort-")}
	case "torch":
		argv = []string{python, filepath.Join(peersDir, "torch_worker.py")}
		env = append(env, "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1")
	default:
		return nil, fmt.Errorf("unknown runtime %q: use go-native, go-wasm, go-native-scalar, go-wasm-scalar, ort-node, ort-web or torch", name)
	}
	if cpu != "" {
		argv = append([]string{"taskset", "-c", cpu}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	r := &runner{name: name, cmd: cmd, errs: &strings.Builder{}}
	cmd.Stderr = r.errs
	var err error
	if r.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	r.out = bufio.NewScanner(stdout)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}

func (r *runner) call(req map[string]any) (float64, error) {
	b, _ := json.Marshal(req)
	if _, err := r.in.Write(append(b, '\n')); err != nil {
		return 0, fmt.Errorf("%s: %w (stderr: %s)", r.name, err, r.errs)
	}
	if !r.out.Scan() {
		return 0, fmt.Errorf("%s stopped answering (stderr: %s)", r.name, strings.TrimSpace(r.errs.String()))
	}
	var rep struct {
		OK      bool    `json:"ok"`
		Seconds float64 `json:"seconds"`
		Error   string  `json:"error"`
	}
	if err := json.Unmarshal(r.out.Bytes(), &rep); err != nil {
		return 0, fmt.Errorf("%s: reply %q: %w", r.name, r.out.Text(), err)
	}
	if !rep.OK {
		return 0, fmt.Errorf("%s: %s", r.name, rep.Error)
	}
	return rep.Seconds, nil
}

func (r *runner) load(m *benchModel) error {
	_, err := r.call(map[string]any{"op": "load", "name": m.name, "weights": m.weights, "onnx": m.onnx,
		"input": m.input, "channels": m.cfg.Channels, "size": m.cfg.ImageSize})
	return err
}

func (r *runner) time(m *benchModel, batch, iters int, out string) (float64, error) {
	return r.call(map[string]any{"op": "run", "name": m.name, "batch": batch, "iters": iters, "out": out})
}

func (r *runner) close() {
	r.in.Close()
	r.cmd.Wait()
}
