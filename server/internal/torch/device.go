package torch

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/sugarme/gotch"
)

// SelectDevice parses a device flag:
//
//	auto     CUDA device 0 when CUDA is available, else the CPU
//	cpu      the CPU
//	cuda     CUDA device 0
//	cuda:N   CUDA device N
//
// It fails for any other value and for a CUDA device that is not there
// (Debian's libtorch is CPU only).
func SelectDevice(flag string) (gotch.Device, error) {
	var cudaDevices int64
	if gotch.CUDA.IsAvailable() {
		cudaDevices = gotch.CUDA.DeviceCount()
	}
	return selectDevice(flag, cudaDevices)
}

// TrainsOnCPU reports whether the device flag selects the CPU on this machine ("cpu",
// or "auto" without CUDA), for callers that pick defaults by device without
// importing gotch themselves.
func TrainsOnCPU(flag string) bool {
	d, err := SelectDevice(flag)
	return err == nil && d == gotch.CPU
}

// DescribeDevice says in words what the device flag selects on this machine, for a
// person choosing settings: "CPU, 2 cores", "CUDA GPU 0 of 1", or why it cannot be used.
func DescribeDevice(flag string) string {
	d, err := SelectDevice(flag)
	switch {
	case err != nil:
		return "unusable device: " + err.Error()
	case d == gotch.CPU:
		return fmt.Sprintf("CPU, %d cores", runtime.NumCPU())
	}
	return fmt.Sprintf("CUDA GPU %d of %d", d.CInt(), gotch.CUDA.DeviceCount())
}

// selectDevice is SelectDevice with the number of CUDA devices given, so
// that every branch can be tested on a machine without a GPU.
func selectDevice(flag string, cudaDevices int64) (gotch.Device, error) {
	f := strings.ToLower(strings.TrimSpace(flag))
	switch {
	case f == "auto":
		if cudaDevices > 0 {
			return gotch.CudaBuilder(0), nil
		}
		return gotch.CPU, nil
	case f == "cpu":
		return gotch.CPU, nil
	case f == "cuda" || strings.HasPrefix(f, "cuda:"):
		index := int64(0)
		if s, ok := strings.CutPrefix(f, "cuda:"); ok {
			n, err := strconv.ParseUint(s, 10, 16)
			if err != nil {
				return gotch.Device{}, fmt.Errorf("device %q: want cuda:N with N a device number", flag)
			}
			index = int64(n)
		}
		if cudaDevices == 0 {
			return gotch.Device{}, fmt.Errorf("device %q: CUDA is not available in this libtorch (use cpu or auto)", flag)
		}
		if index >= cudaDevices {
			return gotch.Device{}, fmt.Errorf("device %q: only %d CUDA device(s), numbered from 0", flag, cudaDevices)
		}
		return gotch.CudaBuilder(uint(index)), nil
	}
	return gotch.Device{}, fmt.Errorf("device %q: want auto, cpu, cuda or cuda:N", flag)
}
