package torch

import (
	"testing"

	"github.com/sugarme/gotch"
)

func TestSelectDevice(t *testing.T) {
	cuda := gotch.CUDA.IsAvailable()
	for _, tc := range []struct {
		flag    string
		want    gotch.Device
		wantErr bool
	}{
		{"cpu", gotch.CPU, false},
		{" CPU ", gotch.CPU, false},
		{"tpu", gotch.Device{}, true},
		{"", gotch.Device{}, true},
		{"cuda:", gotch.Device{}, true},
		{"cuda:x", gotch.Device{}, true},
		{"cuda:-1", gotch.Device{}, true},
		{"cuda:99", gotch.Device{}, true}, // no machine has 100 GPUs
	} {
		got, err := SelectDevice(tc.flag)
		if (err != nil) != tc.wantErr || err == nil && got != tc.want {
			t.Errorf("SelectDevice(%q) = %v, %v; want %v, error %v", tc.flag, got, err, tc.want, tc.wantErr)
		}
	}

	auto, err := SelectDevice("auto")
	if err != nil || auto.IsCuda() != cuda {
		t.Errorf(`SelectDevice("auto") = %v, %v; CUDA available: %v`, auto, err, cuda)
	}
	if !cuda {
		if _, err := SelectDevice("cuda"); err == nil {
			t.Error(`SelectDevice("cuda") succeeded without CUDA`)
		} else {
			t.Logf("no CUDA: %v", err)
		}
	}
}

// TestSelectDeviceCUDA covers the CUDA branches with a pretended GPU count.
func TestSelectDeviceCUDA(t *testing.T) {
	for _, tc := range []struct {
		flag    string
		gpus    int64
		want    gotch.Device
		wantErr bool
	}{
		{"auto", 0, gotch.CPU, false},
		{"auto", 2, gotch.CudaBuilder(0), false},
		{"cuda", 1, gotch.CudaBuilder(0), false},
		{"cuda:1", 2, gotch.CudaBuilder(1), false},
		{"cuda:2", 2, gotch.Device{}, true},
		{"cuda:0", 0, gotch.Device{}, true},
		{"cuda", 0, gotch.Device{}, true},
	} {
		got, err := selectDevice(tc.flag, tc.gpus)
		if (err != nil) != tc.wantErr || err == nil && got != tc.want {
			t.Errorf("selectDevice(%q, %d) = %v, %v; want %v, error %v", tc.flag, tc.gpus, got, err, tc.want, tc.wantErr)
		}
	}
}
