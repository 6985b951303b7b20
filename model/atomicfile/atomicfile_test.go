package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range entries {
		n = append(n, e.Name())
	}
	return n
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "card.json")
	if err := WriteFile(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("two")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "two" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("a replaced file lost its mode: %v", st.Mode())
	}
	if n := names(t, dir); !slices.Equal(n, []string{"card.json"}) {
		t.Errorf("folder holds %v, want only card.json", n)
	}
}

// A write that fails midway, or a rename that cannot happen, leaves the old file as
// it was and no temporary file behind.
func TestFailuresLoseNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	if err := os.WriteFile(path, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("partial"))
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "write "+path+": disk full") {
		t.Errorf("error %v does not name the file and the cause", err)
	}
	// A non-empty folder cannot be replaced by a file, even by root.
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(sub, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(sub, []byte("new")); err == nil {
		t.Error("WriteFile over a folder succeeded")
	}
	if got, _ := os.ReadFile(path); string(got) != "previous" {
		t.Errorf("existing file changed to %q", got)
	}
	if n := names(t, dir); !slices.Equal(n, []string{"sub", "w.safetensors"}) {
		t.Errorf("folder holds %v, want sub and w.safetensors", n)
	}
	if err := WriteFile(filepath.Join(dir, "nope", "f"), nil); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing folder gives %v, want a not-exist error", err)
	}
}
