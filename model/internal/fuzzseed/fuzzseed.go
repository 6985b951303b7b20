package fuzzseed

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Check compares testdata/fuzz/<target>/seed-<name> with each seed, in the file
// format of go test's fuzzing corpus for a func(*testing.T, []byte) target. With
// update it writes the files instead. testName is the test to rerun with -update.
func Check(t *testing.T, target, testName string, seeds map[string][]byte, update bool) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", target)
	for name, data := range seeds {
		path := filepath.Join(dir, "seed-"+name)
		want := []byte("go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n")
		if update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v); regenerate with go test -run %s -update", path, err, testName)
		}
	}
}
