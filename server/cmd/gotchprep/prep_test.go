package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sampleSource = `// leading comment { with a brace
#include "api.h"
#define BRACE {
namespace helpers {
static int twice(int x) { return 2 * x; }
}
extern "C" {
void good(int *out) {
  PROTECT(
    const char *s = "a } in a string";
    char c = '}';
    *out = helpers::twice(1);
  )
}
}
struct point { int x, y; };
int table[] = {1, 2};

tensor *split_it(tensor self, int n) {
  PROTECT(
    return torch::no_such_split(*self, n); /* } */
  )
  return nullptr;
}

int64_t count_it(tensor self) {
  PROTECT(return torch::no_such_count(*self);)
  return 0;
}

void tuple_it(tensor *out__) {
  PROTECT(
    auto t = std::make_tuple(1, 2);
    out__[0] = new int(std::get<5>(t));
  )
}
`

func TestTopLevelFunctions(t *testing.T) {
	funcs := topLevelFunctions([]byte(sampleSource))
	var got []string
	for _, f := range funcs {
		got = append(got, f.retType+"|"+f.name)
	}
	want := []string{"static int|twice", "void|good", "tensor *|split_it", "int64_t|count_it", "void|tuple_it"}
	if !slices.Equal(got, want) {
		t.Fatalf("functions:\ngot  %q\nwant %q", got, want)
	}
	good := funcs[1]
	if good.startLine != 8 || good.endLine != 14 {
		t.Errorf("good spans lines %d-%d, want 8-14", good.startLine, good.endLine)
	}
	if i := enclosingFunction(funcs, 22); i < 0 || funcs[i].name != "split_it" {
		t.Errorf("line 22 is not in split_it")
	}
	if i := enclosingFunction(funcs, 17); i >= 0 {
		t.Errorf("line 17 (a struct) is in %s", funcs[i].name)
	}
	if !funcs[1].isVoid() || funcs[2].isVoid() {
		t.Errorf("isVoid wrong for good or split_it")
	}
}

func TestParseDiagnostics(t *testing.T) {
	dir := "/tmp/gotch/libtch"
	out := `/tmp/gotch/libtch/api.cpp: In function 'void f(tensor*)':
/tmp/gotch/libtch/api.cpp:12:3: error: 'no_such' is not a member of 'torch'
/usr/include/c++/12/tuple: In instantiation of 'struct std::tuple_element<5, std::tuple<int, int> >':
/usr/include/c++/12/tuple:1372:12:   required from 'constexpr std::__tuple_element_t<_i, std::tuple<_Elements ...> >& std::get(tuple<_Elements ...>&)'
/tmp/gotch/libtch/api.cpp:40:5:   required from here
/usr/include/c++/12/tuple:1357:25: error: static assertion failed: tuple index must be in range
/tmp/gotch/libtch/api.cpp:7:6: note: candidate: 'int helper(int)'
/elsewhere/x.h:3:1: error: not ours
`
	got := parseDiagnostics([]byte(out), dir)
	want := []diagnostic{
		{file: "api.cpp", line: 12, message: "error: 'no_such' is not a member of 'torch'"},
		{file: "api.cpp", line: 40, message: "error: static assertion failed: tuple index must be in range"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestCString(t *testing.T) {
	if got, want := cString(`a "b" \c`+"\n"), `"a \"b\" \\c\x0a"`; got != want {
		t.Errorf("cString = %s, want %s", got, want)
	}
}

// TestStubUntilCompiles runs the whole loop with the real compiler on a
// small file: the three broken functions (pointer, int64_t and void
// returning; one a template error reported in a system header) are stubbed
// and the rest is left as it was.
func TestStubUntilCompiles(t *testing.T) {
	cxx := envOr("CXX", "g++")
	if _, err := exec.LookPath(cxx); err != nil {
		t.Skipf("no C++ compiler: %v", err)
	}
	dir := t.TempDir()
	header := `#include <stdexcept>
#include <tuple>
#include <string.h>
#include <stdint.h>
namespace torch { struct Tensor {}; }
typedef torch::Tensor *tensor;
thread_local char *torch_last_err = nullptr;
#define PROTECT(x) try { x } catch (const std::exception &e) { torch_last_err = strdup(e.what()); }
`
	if err := os.WriteFile(filepath.Join(dir, "api.h"), []byte(header), 0o644); err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(sampleSource, "void tuple_it(tensor *out__)", "void tuple_it(int **out__)", 1)
	if err := os.WriteFile(filepath.Join(dir, "api.cpp"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	lt := libtorch{version: "0.0.0"}
	stubs, err := stubUntilCompiles(dir, lt, cgoFlags{cppflags: []string{"-I${SRCDIR}"}, cxxflags: []string{"-std=c++17"}}, cxx, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range stubs {
		names = append(names, s.name)
	}
	if want := []string{"count_it", "split_it", "tuple_it"}; !slices.Equal(names, want) {
		t.Fatalf("stubbed %q, want %q", names, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, "api.cpp"))
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, s := range []string{
		`"count_it is not available in libtorch 0.0.0 (stubbed by gotchprep)"`,
		"return {};",
		`const char *s = "a } in a string";`, // good() untouched
		"static int twice(int x) { return 2 * x; }",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("result lacks %q:\n%s", s, got)
		}
	}
	// A second pass finds nothing to do.
	if again, err := stubUntilCompiles(dir, lt, cgoFlags{cppflags: []string{"-I${SRCDIR}"}, cxxflags: []string{"-std=c++17"}}, cxx, t.Logf); err != nil || len(again) != 0 {
		t.Errorf("second pass: %v stubs, error %v", len(again), err)
	}
}

// TestExtend checks that the project's additions land in a copy of gotch: the C++ file
// in libtch, and ts.newTensor without its per-tensor ballast; and that a tensor.go
// without the ballast line (another gotch version) is an error, not a silent no-op.
func TestExtend(t *testing.T) {
	write := func(dir, tensorGo string) {
		for _, d := range []string{"libtch", "ts"} {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "ts", "tensor.go"), []byte(tensorGo), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	write(dir, "func newTensor() *Tensor {\n\tx := new(Tensor)\n\tx.d = new(bigStruct)\n\treturn x\n}\n")
	if err := extend(dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "ts", "tensor.go"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "new(bigStruct)") || !strings.Contains(string(got), "return x") {
		t.Errorf("tensor.go after extend:\n%s", got)
	}
	cpp, err := os.ReadFile(filepath.Join(dir, "libtch", ganomalyOpsFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"ganomaly_leaky_relu", "ganomaly_zero_grads", "ganomaly_adam_step"} {
		if !strings.Contains(string(cpp), "void "+fn+"(") {
			t.Errorf("%s lacks %s", ganomalyOpsFile, fn)
		}
	}

	other := t.TempDir()
	write(other, "func newTensor() *Tensor { return new(Tensor) }\n")
	if err := extend(other); err == nil || !strings.Contains(err.Error(), "ballast 0 times") {
		t.Errorf("extend on a tensor.go without the ballast: err = %v, want one naming it", err)
	}
}
