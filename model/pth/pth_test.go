package pth

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ganomaly-go/ganomaly-go/model"
	"github.com/ganomaly-go/ganomaly-go/model/safetensors"
)

// The fixtures come from testdata/make_fixtures.py (PyTorch 1.13): official-layout
// generators with random weights and batch-norm statistics, saved three ways, and the
// outputs PyTorch computes with them in eval mode.

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// outputs reads <tag>_outputs.safetensors: x, z, xhat, zhat and the config.
func outputs(t *testing.T, tag string) (model.Config, map[string][]float32) {
	t.Helper()
	st, err := safetensors.Read(readFixture(t, tag+"_outputs.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg model.Config
	if err := json.Unmarshal([]byte(st.Metadata["config"]), &cfg); err != nil {
		t.Fatal(err)
	}
	m := map[string][]float32{}
	for _, tn := range st.Tensors {
		m[tn.Name] = tn.Data
	}
	return cfg, m
}

func maxDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// The imported generator reproduces PyTorch's eval-mode z, x̂ and ẑ, whichever way
// the checkpoint was saved.
func TestImportMatchesPyTorch(t *testing.T) {
	const tol = 1e-5
	for _, c := range []struct {
		file, tag, format string
		epoch             bool
	}{
		{"a_netG.pth", "a", "zip", true},
		{"a_legacy.pth", "a", "legacy", true},
		{"b_netG.pth", "b", "zip", true},
		{"b_bare.pth", "b", "zip", false},
		{"b_legacy.pth", "b", "legacy", true},
	} {
		t.Run(c.file, func(t *testing.T) {
			cfg, out := outputs(t, c.tag)
			ck, err := Read(readFixture(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if ck.Format != c.format || ck.HasEpoch != c.epoch || (c.epoch && ck.Epoch != 3) {
				t.Errorf("format %q, epoch %d (%v); want %q, 3 (%v)", ck.Format, ck.Epoch, ck.HasEpoch, c.format, c.epoch)
			}
			f, err := ck.Weights(c.file)
			if err != nil {
				t.Fatal(err)
			}
			if f.Config != cfg {
				t.Fatalf("inferred config %+v, want %+v", f.Config, cfg)
			}
			if f.Calibration != model.Uncalibrated(model.ScoreMSE) {
				t.Errorf("calibration %+v, want uncalibrated", f.Calibration)
			}
			if !strings.Contains(f.Provenance.Notes, c.file) || f.Provenance.Trainer != Importer || (c.epoch && f.Provenance.Epochs != 3) {
				t.Errorf("provenance %+v", f.Provenance)
			}
			g, err := model.NewGenerator(f.Config, f.Tensors)
			if err != nil {
				t.Fatal(err)
			}
			z, xhat, zhat := g.Forward(out["x"], 4)
			for _, o := range []struct {
				name string
				got  []float32
			}{{"z", z}, {"xhat", xhat}, {"zhat", zhat}} {
				d := maxDiff(o.got, out[o.name])
				t.Logf("%s: max |Go − PyTorch| = %.3g over %d values", o.name, d, len(o.got))
				if !(d <= tol) {
					t.Errorf("%s differs from PyTorch by %.3g, more than %g", o.name, d, tol)
				}
			}
			// The result is a valid weights file.
			b, err := f.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := model.LoadDetector(b); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Other dtypes become the same float32 values; a DataParallel prefix is removed.
func TestImportVariants(t *testing.T) {
	ref, err := Import(readFixture(t, "tiny_netG.pth"), "tiny_netG.pth")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file string
		tol  func(ref float32) float64 // allowed |difference| from the float32 value
	}{
		{"tiny_float64.pth", func(float32) float64 { return 0 }},
		{"tiny_dataparallel.pth", func(float32) float64 { return 0 }},
		{"tiny_legacy.pth", func(float32) float64 { return 0 }},
		// binary16: 11 significant bits, and subnormals below 2^-14 step by 2^-24.
		{"tiny_float16.pth", func(r float32) float64 { return math.Abs(float64(r))*0x1p-11 + 0x1p-25 }},
	} {
		f, err := Import(readFixture(t, c.file), c.file)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if f.Config != ref.Config || len(f.Tensors) != len(ref.Tensors) {
			t.Fatalf("%s: config %+v with %d tensors, want %+v with %d", c.file, f.Config, len(f.Tensors), ref.Config, len(ref.Tensors))
		}
		for name, want := range ref.Tensors {
			got := f.Tensors[name]
			for i := range want {
				if d := math.Abs(float64(got[i]) - float64(want[i])); d > c.tol(want[i]) {
					t.Fatalf("%s: %s[%d] = %v, want %v", c.file, name, i, got[i], want[i])
				}
			}
		}
	}
}

func TestHalfToFloat32(t *testing.T) {
	for h, want := range map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 0x1p-24, 0x03ff: 1023 * 0x1p-24,
		0x0400: 0x1p-14, 0x3555: 0.333251953125, 0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
	} {
		if got := halfToFloat32(h); got != want {
			t.Errorf("halfToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
	if got := halfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("halfToFloat32(NaN) = %v", got)
	}
	if got := halfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("halfToFloat32(-0) = %v", got)
	}
}

// Every malformed or hostile fixture is refused with an error that says what is wrong.
func TestRefusedFixtures(t *testing.T) {
	for _, c := range []struct {
		file string
		kind error
		want []string
	}{
		{"bad_os_system.pth", ErrUnsafe, []string{"posix.system", "only state dicts of tensors", "refused"}},
		{"bad_eval.pth", ErrUnsafe, []string{"__builtin__.eval", "refused"}},
		{"bad_whole_module.pth", ErrUnsafe, []string{"__main__.NetG", "state_dict()"}},
		{"bad_names.pth", ErrNotGenerator, []string{`unexpected tensor "decoder.main.pyramid-4-2-convtX.weight"`}},
		{"bad_shape.pth", ErrNotGenerator, []string{`"encoder2.main.final-4-1-conv.weight" has shape [4 4 3 3]`, "needs [4 4 4 4]"}},
		{"bad_missing.pth", ErrNotGenerator, []string{`"encoder2.main.pyramid-4-batchnorm.running_var" [4] is missing`}},
		{"bad_nan.pth", ErrNotGenerator, []string{`"decoder.main.initial-4-4-convt.weight" holds NaN`}},
		{"bad_netD.pth", ErrNotGenerator, []string{"discriminator", "netG.pth"}},
		{"bad_int32.pth", ErrUnsupported, []string{"dtype int32", "floating point"}},
		{"bad_short_storage.pth", ErrFormat, []string{`storage "3" declares 4 elements of float32 (16 bytes) but its record holds 8 bytes`}},
	} {
		_, err := Import(readFixture(t, c.file), c.file)
		checkErr(t, c.file, err, c.kind, c.want...)
	}
}

func checkErr(t *testing.T, what string, err error, kind error, want ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, kind) {
		t.Errorf("%s: error %v, want an *Error of kind %v", what, err, kind)
		return
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not say %q", what, err, w)
		}
	}
}

// Cuts in a checkpoint are refused as damaged, never accepted: at every byte of the
// head and the tail, where the pickles and the zip directory are, and every 61 bytes
// between.
func TestTruncated(t *testing.T) {
	for _, file := range []string{"b_netG.pth", "b_legacy.pth"} {
		b := readFixture(t, file)
		edge, step := 1024, 61
		if testing.Short() {
			edge, step = 64, 997
		}
		for n := 0; n < len(b); n++ {
			if n > edge && n < len(b)-edge && n%step != 0 {
				continue
			}
			if _, err := Import(b[:n], file); !errors.Is(err, ErrFormat) {
				t.Fatalf("%s cut at %d of %d: %v, want ErrFormat", file, n, len(b), err)
			}
		}
	}
	_, err := Read(readFixture(t, "b_netG.pth")[:5000])
	checkErr(t, "zip cut", err, ErrFormat, "damaged zip archive")
	_, err = Read(readFixture(t, "b_legacy.pth")[:len(readFixture(t, "b_legacy.pth"))-3])
	checkErr(t, "legacy cut", err, ErrFormat, "truncated checkpoint")
}

func TestNotACheckpoint(t *testing.T) {
	st := readFixture(t, "a_outputs.safetensors")
	_, err := Read(st)
	checkErr(t, "safetensors", err, ErrFormat, "not a PyTorch checkpoint")
	_, err = Read(nil)
	checkErr(t, "empty", err, ErrFormat, "empty")
	tar := make([]byte, 1024)
	copy(tar[257:], "ustar")
	_, err = Read(tar)
	checkErr(t, "tar", err, ErrUnsupported, "tar archive")
}
