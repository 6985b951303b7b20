package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
)

const gotchPath = "github.com/sugarme/gotch"

// options are the command-line settings.
type options struct {
	root     string // repository root (holds go.mod)
	out      string // where the prepared copy goes
	libtorch string // libtorch prefix; "" means $LIBTORCH, then the system install
	cxx      string // C++ compiler for the syntax check
	force    bool   // prepare again even when the stamp matches
	verbose  bool
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("gotchprep: ")
	opts := parseFlags(os.Args[1:], os.Stderr)
	if err := run(opts); err != nil {
		log.Fatal(err)
	}
}

func parseFlags(args []string, usageOut io.Writer) options {
	var o options
	fs := flag.NewFlagSet("gotchprep", flag.ExitOnError)
	fs.SetOutput(usageOut)
	fs.StringVar(&o.root, "root", "", "repository root, the directory holding go.mod (default: found from the working directory)")
	fs.StringVar(&o.out, "out", "", "directory for the prepared gotch copy (default: <root>/.build/gotch)")
	fs.StringVar(&o.libtorch, "libtorch", os.Getenv("LIBTORCH"), "libtorch prefix holding include/ and lib/; $LIBTORCH sets the default; empty means the system install in /usr or /usr/local")
	fs.StringVar(&o.cxx, "cxx", envOr("CXX", "g++"), "C++ compiler used to find the wrappers that do not compile; $CXX sets the default")
	fs.BoolVar(&o.force, "force", false, "prepare again even if the prepared copy is up to date")
	fs.BoolVar(&o.verbose, "v", false, "print each step and every stubbed function")
	fs.Usage = func() {
		fmt.Fprint(usageOut, `gotchprep prepares a copy of gotch that builds against the installed libtorch
and writes a git-ignored go.work that makes this repository's builds use it.

Usage:
  go run ./server/cmd/gotchprep [flags]
  go build ./server/...

It copies the gotch version that go.mod requires to <out>, rewrites
libtch/lib.go's cgo flags for the detected libtorch (CPU or CUDA, C++ ABI),
and stubs each generated wrapper that does not compile against that libtorch
so that calling it returns an error. The stubbed functions are listed in
<out>/STUBBED.txt. Re-running is a no-op while nothing changed.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.Parse(args)
	if fs.NArg() > 0 {
		fs.Usage()
		os.Exit(2)
	}
	return o
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// run is the whole preparation; each step is a function of its own below.
func run(o options) error {
	root, err := findRoot(o.root)
	if err != nil {
		return err
	}
	out := o.out
	if out == "" {
		out = filepath.Join(root, ".build", "gotch")
	}
	if out, err = filepath.Abs(out); err != nil {
		return err
	}
	vlog := func(format string, args ...any) {
		if o.verbose {
			log.Printf(format, args...)
		}
	}

	mod, err := findModule(root, gotchPath)
	if err != nil {
		return err
	}
	vlog("%s %s from %s", mod.Path, mod.Version, mod.Dir)

	lt, err := detectLibtorch(o.libtorch, o.cxx)
	if err != nil {
		return err
	}
	vlog("libtorch %s: headers %s, libraries %s, cuda=%v, cxx11abi=%v", lt.describe(), lt.includeRoot, lt.libDir, lt.cuda, lt.cxx11ABI)

	flags := cgoFlagsFor(lt)
	stamp, err := stampFor(mod, lt, flags)
	if err != nil {
		return err
	}
	if !o.force && stampMatches(out, stamp) {
		fmt.Printf("gotchprep: gotch %s for libtorch %s in %s is up to date\n", mod.Version, lt.describe(), relOrAbs(root, out))
	} else {
		n, err := prepare(mod, lt, flags, out, stamp, o.cxx, vlog)
		if err != nil {
			return err
		}
		fmt.Printf("gotchprep: prepared gotch %s for libtorch %s in %s; %d wrappers stubbed (see %s)\n",
			mod.Version, lt.describe(), relOrAbs(root, out), n, relOrAbs(root, filepath.Join(out, stubbedFile)))
	}

	changed, err := writeGoWork(root, mod, out)
	if err != nil {
		return err
	}
	if changed {
		fmt.Printf("gotchprep: wrote %s\n", filepath.Join(root, "go.work"))
	}
	return nil
}

// prepare builds the copy in a temporary sibling of out and renames it into
// place only when everything succeeded, so an interrupted run never leaves a
// half-prepared copy behind a valid stamp. It returns the number of stubs.
func prepare(mod module, lt libtorch, flags cgoFlags, out, stamp, cxx string, vlog func(string, ...any)) (int, error) {
	if err := checkReplaceable(out); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".gotchprep-*")
	if err != nil {
		return 0, err
	}
	// After a successful rename there is nothing left here to remove.
	defer os.RemoveAll(tmp)
	// MkdirTemp makes the directory private; the copy is an ordinary tree.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return 0, err
	}
	vlog("copying %s to %s", mod.Dir, tmp)
	if err := copyTree(mod.Dir, tmp); err != nil {
		return 0, fmt.Errorf("copying gotch: %w", err)
	}
	libDir := filepath.Join(tmp, "libtch")
	if err := os.WriteFile(filepath.Join(libDir, "lib.go"), []byte(renderLibGo(lt, flags)), 0o644); err != nil {
		return 0, err
	}
	stubs, err := stubUntilCompiles(libDir, lt, flags, cxx, vlog)
	if err != nil {
		return 0, err
	}
	if err := extend(tmp); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(tmp, stubbedFile), []byte(renderStubbed(mod, lt, stubs)), 0o644); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(tmp, stampFile), []byte(stamp), 0o644); err != nil {
		return 0, err
	}
	if err := os.RemoveAll(out); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, out); err != nil {
		return 0, err
	}
	for _, s := range stubs {
		vlog("stubbed %s (%s:%d: %s)", s.name, s.file, s.line, s.reason)
	}
	return len(stubs), nil
}

// relOrAbs shortens paths under root for messages.
func relOrAbs(root, path string) string {
	if rel, err := filepath.Rel(root, path); err == nil && filepath.IsLocal(rel) {
		return rel
	}
	return path
}
