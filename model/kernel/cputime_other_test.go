//go:build !unix && !js

package kernel

// cpuSeconds is unknown here: benchmarks report wall-clock throughput only.
func cpuSeconds() float64 { return -1 }
