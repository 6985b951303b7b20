//go:build unix

package kernel

import "syscall"

// cpuSeconds is the CPU time this process has used, user and system. The
// benchmarks report throughput per CPU-second beside wall-clock throughput
// because the machines they run on are shared: when another process takes
// turns on the same core, wall time stretches but CPU time does not.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
