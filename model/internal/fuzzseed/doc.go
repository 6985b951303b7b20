// Package fuzzseed keeps the seed corpora of the model packages' fuzz targets in the
// repository: each seed is a file under testdata/fuzz/<Target>/ that `go test -fuzz`
// reads, and a test checks that the files match the seeds the code builds, so a
// format change cannot leave a stale corpus behind.
package fuzzseed
