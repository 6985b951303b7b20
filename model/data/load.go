package data

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Load reads the data set that o names and splits it by the protocol (see the package
// documentation). Options are checked before anything is read.
func Load(o Options) (*Split, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Pack != nil {
		return LoadPack(o.Pack, o)
	}
	o = o.withDefaults()
	switch o.Dataset {
	case MNIST, FashionMNIST:
		return loadIdx(o)
	case Folder:
		return loadFolder(o)
	}
	panic("data: Validate let through data set " + o.Dataset)
}

func newSet(n, channels, size int) *Set {
	return &Set{
		Images:   make([]float32, n*channels*size*size),
		Labels:   make([]bool, n),
		Names:    make([]string, n),
		N:        n,
		Channels: channels,
		Size:     size,
	}
}

// minParallel is the number of images below which decoding stays on one goroutine:
// starting workers costs more than a few small images take.
const minParallel = 64

// parallel calls f(0) … f(n−1) on GOMAXPROCS goroutines, each taking the next index
// from a shared counter so that slow images (large JPEGs) balance out.
func parallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < minParallel || workers == 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
