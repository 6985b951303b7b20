// Command mnistpack writes the data pack the browser trains on offline (see
// model/data's WritePack): a balanced sample of MNIST or Fashion-MNIST in one gzip
// file. make web runs it into web/data/.
//
//	go run ./server/cmd/mnistpack -o web/data/mnist-pack.gz
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ganomaly-go/ganomaly-go/model/atomicfile"
	"github.com/ganomaly-go/ganomaly-go/model/data"
)

func main() {
	dataset := flag.String("dataset", data.MNIST, `"mnist" or "fashion-mnist"`)
	dir := flag.String("data-dir", "", "folder of the idx files (found automatically when empty)")
	perTrain := flag.Int("per-class-train", 700, "images of each class from the train file")
	perTest := flag.Int("per-class-test", 150, "images of each class from the test file")
	out := flag.String("o", "", "file to write (required)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: mnistpack [flags] -o FILE\n\nWrites a balanced sample of an idx data set as one gzip file, for training in the browser.\nThe defaults (700 + 150 per class) leave 5,400 train and 600 validation normals\nwith any class held out, and 2,000 test images.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "mnistpack:", err)
		os.Exit(1)
	}
	err := atomicfile.Write(*out, func(w io.Writer) error {
		return data.WritePack(w, data.Options{Dataset: *dataset, Dir: *dir}, *perTrain, *perTest)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mnistpack:", err)
		os.Exit(1)
	}
}
