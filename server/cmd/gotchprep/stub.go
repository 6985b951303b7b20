package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// maxRounds bounds the compile-and-stub loop. Each round must stub at least
// one new function, so this only matters for compilers that stop early
// (clang stops after 20 errors).
const maxRounds = 50

// stub records one function whose body was replaced.
type stub struct {
	name   string
	file   string // relative to libtch
	line   int    // first failing line
	reason string // the compiler's first error for it
}

// diagnostic is one compiler location that points into our sources: an error,
// or the "required from here" of a template error whose own location lies in
// a libtorch header.
type diagnostic struct {
	file    string
	line    int
	message string // the error text, for STUBBED.txt
}

// stubUntilCompiles syntax-checks every C++ file in libDir and stubs the
// functions the errors fall in, until the files compile.
func stubUntilCompiles(libDir string, lt libtorch, flags cgoFlags, cxx string, vlog func(string, ...any)) ([]stub, error) {
	sources, err := cxxSources(libDir)
	if err != nil {
		return nil, err
	}
	args := flags.forCompiler(libDir)
	var stubs []stub
	done := map[string]bool{} // file + "\x00" + function
	for round := 1; ; round++ {
		var diags []diagnostic
		for _, src := range sources {
			vlog("round %d: %s -fsyntax-only %s", round, cxx, filepath.Base(src))
			d, err := syntaxCheck(cxx, args, src, libDir)
			if err != nil {
				return nil, err
			}
			diags = append(diags, d...)
		}
		if len(diags) == 0 {
			sort.Slice(stubs, func(i, j int) bool { return stubs[i].name < stubs[j].name })
			return stubs, nil
		}
		if round == maxRounds {
			return nil, fmt.Errorf("still failing to compile after %d rounds, e.g. %s:%d: %s", round, diags[0].file, diags[0].line, diags[0].message)
		}
		added, err := stubDiagnostics(libDir, diags, lt, done)
		if err != nil {
			return nil, err
		}
		vlog("round %d: stubbed %d functions", round, len(added))
		stubs = append(stubs, added...)
	}
}

// cxxSources are the translation units cgo compiles as C++.
func cxxSources(dir string) ([]string, error) {
	var srcs []string
	for _, pat := range []string{"*.cpp", "*.cc", "*.cxx"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, m...)
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("no C++ sources in %s", dir)
	}
	sort.Strings(srcs)
	return srcs, nil
}

// syntaxCheck compiles src without generating code and returns the
// diagnostics that point into dir. A failure that points nowhere in dir
// (a broken libtorch header, a wrong flag) cannot be stubbed and is an error.
func syntaxCheck(cxx string, args []string, src, dir string) ([]diagnostic, error) {
	cmdArgs := append(append([]string{}, args...), "-fsyntax-only", "-w", src)
	cmd := exec.Command(cxx, cmdArgs...)
	cmd.Env = append(os.Environ(), "LC_ALL=C") // plain quotes, English messages
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil, nil
	}
	if _, ok := err.(*exec.ExitError); !ok {
		return nil, fmt.Errorf("running %s: %w", cxx, err)
	}
	diags := parseDiagnostics(out, dir)
	if len(diags) == 0 {
		return nil, fmt.Errorf("%s failed on %s with no error inside gotch's sources:\n%s", cxx, filepath.Base(src), tail(out, 2000))
	}
	return diags, nil
}

var locationRE = regexp.MustCompile(`^(.+?):(\d+):(\d+): +(.*)$`)

// parseDiagnostics picks the compiler lines that locate a failure in dir.
// GCC prints a template error at its place in a libtorch header, preceded by
// "file:line:col:   required from here" at the call in our source; clang
// follows it with "note: in instantiation of ... requested here". Other notes
// ("candidate: ...") are skipped: they may point at innocent helpers.
func parseDiagnostics(out []byte, dir string) []diagnostic {
	var lines []compilerLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := locationRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		msg := m[4]
		lines = append(lines, compilerLine{file: m[1], line: n, msg: msg,
			isError: strings.HasPrefix(msg, "error:") || strings.HasPrefix(msg, "fatal error:")})
	}
	var diags []diagnostic
	for i, l := range lines {
		context := strings.HasPrefix(l.msg, "required from") || strings.HasSuffix(l.msg, "requested here")
		if !l.isError && !context {
			continue
		}
		rel, ok := within(dir, l.file)
		if !ok {
			continue
		}
		msg := l.msg
		if context {
			msg = nearestError(lines, i)
		}
		diags = append(diags, diagnostic{file: rel, line: l.line, message: msg})
	}
	return diags
}

// compilerLine is one "file:line:col: message" line of compiler output.
type compilerLine struct {
	file    string
	line    int
	msg     string
	isError bool
}

// nearestError is the error a context line belongs to: GCC prints the
// context first, clang after, so look ahead, then back.
func nearestError(lines []compilerLine, i int) string {
	for j := i + 1; j < len(lines); j++ {
		if lines[j].isError {
			return lines[j].msg
		}
	}
	for j := i - 1; j >= 0; j-- {
		if lines[j].isError {
			return lines[j].msg
		}
	}
	return "error"
}

// within reports whether path lies in dir, and its path relative to dir.
func within(dir, path string) (string, bool) {
	if !filepath.IsAbs(path) {
		return "", false // we pass absolute paths, so ours print absolute
	}
	rel, err := filepath.Rel(dir, filepath.Clean(path))
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return rel, true
}

// stubDiagnostics stubs, file by file, every function a diagnostic falls in.
func stubDiagnostics(dir string, diags []diagnostic, lt libtorch, done map[string]bool) ([]stub, error) {
	byFile := map[string][]diagnostic{}
	var files []string
	for _, d := range diags {
		if _, seen := byFile[d.file]; !seen {
			files = append(files, d.file)
		}
		byFile[d.file] = append(byFile[d.file], d)
	}
	sort.Strings(files)
	var added []stub
	for _, file := range files {
		path := filepath.Join(dir, file)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		funcs := topLevelFunctions(src)
		chosen := map[int]stub{} // index into funcs
		for _, d := range byFile[file] {
			i := enclosingFunction(funcs, d.line)
			if i < 0 {
				return nil, fmt.Errorf("%s:%d: %s\n(outside any function definition, so it cannot be stubbed)", file, d.line, d.message)
			}
			key := file + "\x00" + funcs[i].name
			if done[key] {
				return nil, fmt.Errorf("%s:%d: %s\n(in %s, which is already stubbed)", file, d.line, d.message, funcs[i].name)
			}
			if _, ok := chosen[i]; !ok {
				chosen[i] = stub{name: funcs[i].name, file: file, line: d.line, reason: clip(d.message, 200)}
			}
		}
		var targets []funcDef
		for i, s := range chosen {
			targets = append(targets, funcs[i])
			done[file+"\x00"+funcs[i].name] = true
			added = append(added, s)
		}
		if err := os.WriteFile(path, replaceBodies(src, targets, lt), 0o644); err != nil {
			return nil, err
		}
	}
	return added, nil
}

// replaceBodies swaps each target's body for one that reports the function
// as unavailable through gotch's PROTECT macro, which stores the message in
// torch_last_err; the Go side turns that into an error (ts.TorchErr).
// Non-void functions return a value-initialised zero: 0, 0.0 or nullptr.
func replaceBodies(src []byte, targets []funcDef, lt libtorch) []byte {
	sort.Slice(targets, func(i, j int) bool { return targets[i].open > targets[j].open })
	out := append([]byte{}, src...)
	for _, f := range targets {
		msg := fmt.Sprintf("%s is not available in libtorch %s (stubbed by gotchprep)", f.name, lt.describe())
		body := fmt.Sprintf("{\n  // gotchprep: the generated body does not compile against this libtorch.\n  PROTECT(throw std::runtime_error(%s);)\n", cString(msg))
		if !f.isVoid() {
			body += "  return {};\n"
		}
		body += "}"
		out = append(out[:f.open:f.open], append([]byte(body), out[f.close+1:]...)...)
	}
	return out
}

// cString quotes s as a C string literal.
func cString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			fmt.Fprintf(&b, "\\x%02x", r&0xff)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// renderStubbed is STUBBED.txt: a header, then one function a line.
func renderStubbed(mod module, lt libtorch, stubs []stub) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Wrappers of %s %s stubbed by gotchprep for libtorch %s.\n", mod.Path, mod.Version, lt.describe())
	b.WriteString("# Their generated bodies do not compile against this libtorch. Calling one gives\n")
	b.WriteString("# the error \"<name> is not available in libtorch ...\" instead of a result.\n")
	fmt.Fprintf(&b, "# %d functions; columns: name, file:line, first compiler error.\n", len(stubs))
	for _, s := range stubs {
		fmt.Fprintf(&b, "%s\t%s:%d\t%s\n", s.name, s.file, s.line, s.reason)
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
