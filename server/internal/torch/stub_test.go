package torch

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	lib "github.com/sugarme/gotch/libtch"
	"github.com/sugarme/gotch/ts"
)

// stubbedWrappers reads STUBBED.txt from the gotch copy this build uses
// (written by server/cmd/gotchprep).
func stubbedWrappers(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/sugarme/gotch").Output()
	if err != nil {
		t.Skipf("cannot locate gotch: %v", err)
	}
	f, err := os.Open(filepath.Join(strings.TrimSpace(string(out)), "STUBBED.txt"))
	if err != nil {
		t.Skipf("no STUBBED.txt (was gotch prepared by gotchprep?): %v", err)
	}
	defer f.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			name, _, _ := strings.Cut(line, "\t")
			names[name] = true
		}
	}
	return names
}

// stubCalls call a wrapper each, as gotch's Go side does, and return what
// ts.TorchErr reports. They cover a void wrapper through the public API and
// wrappers returning int and int64_t through libtch.
var stubCalls = map[string]func(x *ts.Tensor) error{
	"atg_squeeze_dims": func(x *ts.Tensor) error {
		_, err := x.SqueezeDims([]int64{0}, false)
		return err
	},
	"atg__chunk_grad_outputs_efficient_attention": func(x *ts.Tensor) error {
		c := lib.Ctensor(x.Ctensor())
		if lib.Atg_ChunkGradOutputsEfficientAttention(c, c, c, 0) {
			panic("stub returned true")
		}
		return ts.TorchErr()
	},
	"atg__fused_sdp_choice": func(x *ts.Tensor) error {
		c := lib.Ctensor(x.Ctensor())
		if got := lib.Atg_FusedSdpChoice(c, c, c, c, 0, 0); got != 0 {
			panic("stub returned non-zero")
		}
		return ts.TorchErr()
	},
}

func TestStubbedWrapperReturnsError(t *testing.T) {
	stubbed := stubbedWrappers(t)
	w := NewWorker()
	defer w.Close()
	tried := 0
	for name, call := range stubCalls {
		if !stubbed[name] {
			continue // this libtorch compiles it
		}
		tried++
		t.Run(name, func(t *testing.T) {
			var callErr error
			if err := w.Do(func() error {
				x := ok(ts.Ones([]int64{1, 2, 4, 8}, gotch.Float, gotch.CPU))
				callErr = call(x)
				// The error was consumed: the next op must succeed.
				_, err := x.MulScalar(ts.FloatScalar(2), false)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if callErr == nil || !strings.Contains(callErr.Error(), name+" is not available in libtorch") {
				t.Fatalf("got error %v, want %q", callErr, name+" is not available in libtorch ...")
			}
			t.Logf("%.120s", strings.SplitN(callErr.Error(), "\n", 2)[0])
		})
	}
	if tried == 0 {
		t.Skipf("none of %d known-callable wrappers is stubbed for this libtorch", len(stubCalls))
	}
}
