package main

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
)

// libtorch is an installed libtorch as found on disk.
type libtorch struct {
	includeRoot string // holds torch/csrc/api/include, ATen, c10
	libDir      string // holds libtorch.so, libc10.so, ...
	version     string // from torch/version.h, e.g. "1.13.0"
	pkgVersion  string // the distribution package that installed it, if any
	cuda        bool   // libtorch_cuda.so or libc10_cuda.so is present
	cxx11ABI    bool   // built with -D_GLIBCXX_USE_CXX11_ABI=1
	system      bool   // libDir is on the default linker path: no rpath needed
}

// describe names the libtorch in messages, the stamp and the stubs' errors.
func (lt libtorch) describe() string {
	if lt.pkgVersion != "" {
		return fmt.Sprintf("%s (%s)", lt.version, lt.pkgVersion)
	}
	return lt.version
}

// detectLibtorch looks for libtorch under prefix, or when prefix is empty
// under the usual system prefixes.
func detectLibtorch(prefix, cxx string) (libtorch, error) {
	prefixes := []string{"/usr", "/usr/local"}
	if prefix != "" {
		prefixes = []string{prefix}
	}
	var errs []error
	for _, p := range prefixes {
		lt, err := probeLibtorch(p, multiarch(cxx))
		if err == nil {
			return lt, nil
		}
		errs = append(errs, err)
	}
	return libtorch{}, fmt.Errorf("libtorch not found (install Debian's libtorch-dev, or set LIBTORCH or -libtorch to an unpacked libtorch): %w", errors.Join(errs...))
}

// multiarch is the Debian multiarch triplet the libraries live under.
func multiarch(cxx string) string {
	if out, err := exec.Command(cxx, "-print-multiarch").Output(); err == nil {
		if s := strings.TrimSpace(string(out)); s != "" {
			return s
		}
	}
	return map[string]string{"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}[runtime.GOARCH]
}

func probeLibtorch(prefix, triplet string) (libtorch, error) {
	lt := libtorch{includeRoot: filepath.Join(prefix, "include")}
	versionH := filepath.Join(lt.includeRoot, "torch", "csrc", "api", "include", "torch", "version.h")
	version, err := readTorchVersion(versionH)
	if err != nil {
		return lt, err
	}
	lt.version = version

	libDirs := []string{filepath.Join(prefix, "lib"), filepath.Join(prefix, "lib64")}
	if triplet != "" {
		libDirs = append([]string{filepath.Join(prefix, "lib", triplet)}, libDirs...)
	}
	for _, d := range libDirs {
		if exists(filepath.Join(d, "libtorch.so")) && exists(filepath.Join(d, "libc10.so")) {
			lt.libDir = d
			break
		}
	}
	if lt.libDir == "" {
		return lt, fmt.Errorf("%s: headers found but no libtorch.so and libc10.so in %s", prefix, strings.Join(libDirs, ", "))
	}
	lt.system = prefix == "/usr" || prefix == "/usr/local"
	lt.cuda = exists(filepath.Join(lt.libDir, "libtorch_cuda.so")) || exists(filepath.Join(lt.libDir, "libc10_cuda.so"))
	if lt.cxx11ABI, err = usesCXX11ABI(filepath.Join(lt.libDir, "libc10.so")); err != nil {
		return lt, err
	}
	lt.pkgVersion = debianPackage(versionH)
	return lt, nil
}

var torchVersionRE = regexp.MustCompile(`#define\s+TORCH_VERSION\s+(?:\\\s*)?"([^"]+)"`)

func readTorchVersion(versionH string) (string, error) {
	b, err := os.ReadFile(versionH)
	if err != nil {
		return "", err
	}
	m := torchVersionRE.FindSubmatch(b)
	if m == nil {
		return "", fmt.Errorf("%s: no TORCH_VERSION", versionH)
	}
	return string(m[1]), nil
}

// usesCXX11ABI tells which C++ ABI libc10 was built with. Its exported
// functions take std::string; with the C++11 ABI their mangled names contain
// std::__cxx11, with the old ABI never. Mixing ABIs links but crashes or fails
// with undefined references, so it must match. debug/elf needs no binutils.
func usesCXX11ABI(lib string) (bool, error) {
	f, err := elf.Open(lib)
	if err != nil {
		return false, fmt.Errorf("probing the C++ ABI: %w", err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		return false, fmt.Errorf("probing the C++ ABI of %s: %w", lib, err)
	}
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF && strings.Contains(s.Name, "__cxx11") {
			return true, nil
		}
	}
	return false, nil
}

// debianPackage names the package and version that installed file, or ""
// (Debian's libtorch 1.13.1 package says "1.13.0" in version.h, so the
// package version is worth showing beside it).
func debianPackage(file string) string {
	out, err := exec.Command("dpkg-query", "-S", file).Output()
	if err != nil {
		return ""
	}
	pkg, _, ok := strings.Cut(strings.TrimSpace(string(out)), ": ")
	if !ok {
		return ""
	}
	v, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(pkg, ":") // drop the ":amd64"
	return "Debian " + name + " " + strings.TrimSpace(string(v))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
