package torch

/*
#include <stdint.h>

// libtorch calls that gotch v0.8.0 does not bind. at_get_num_threads and
// at_set_num_threads are gotch's libtch's own, without a Go binding; the ganomaly_*
// functions are in the ganomaly_ops.cpp that gotchprep adds to libtch (see
// server/cmd/gotchprep/libtch). All are linked from libtch into the program (cgo's
// link of this package alone fails on them, and go then links the program
// externally, as any program linking libtch's C++ is anyway); a libtch prepared
// without ganomaly_ops.cpp fails the link, naming the function.
typedef void *tensor;
int at_get_num_threads(void);
void at_set_num_threads(int);
void ganomaly_leaky_relu(tensor *out, tensor self, double slope);
void ganomaly_zero_grads(tensor *params, int64_t n);
void ganomaly_adam_step(tensor *params, tensor *m, tensor *v, int64_t n,
	double lr, double beta1, double beta2, double eps, int64_t step);
*/
import "C"

import (
	"errors"
	"os"
	"runtime"
	"unsafe"

	_ "github.com/sugarme/gotch/libtch" // defines the functions declared above
	"github.com/sugarme/gotch/ts"
)

// useEveryCore sets libtorch's intra-op threads, for ops called from this OS thread,
// to the CPUs Go may use where libtorch's own default does not fit them, and returns
// the count in effect. That default is its count of physical cores: it comes out as 1
// on machines whose virtual CPUs it cannot place (this 2-vCPU machine), where a
// training step then ran on one core of two (at width 64, 586 ms against 401 on two;
// make bench-train), and it ignores a container's CPU quota, which GOMAXPROCS
// follows. So a default of 1 is raised, and one above GOMAXPROCS lowered; a default
// in between (physical cores of a machine with hyperthreads) is kept, and so is what
// OMP_NUM_THREADS or MKL_NUM_THREADS sets. libtorch with OpenMP keeps the setting per
// thread, hence a call on the worker's locked thread.
func useEveryCore() int {
	_, omp := os.LookupEnv("OMP_NUM_THREADS")
	_, mkl := os.LookupEnv("MKL_NUM_THREADS")
	if n, cpus := intraOpThreads(), runtime.GOMAXPROCS(0); !omp && !mkl && (n == 1 || n > cpus) {
		C.at_set_num_threads(C.int(cpus))
	}
	return intraOpThreads()
}

// intraOpThreads is libtorch's intra-op thread count for ops called from this OS
// thread.
func intraOpThreads() int { return int(C.at_get_num_threads()) }

// LeakyReLU, ZeroGrads and AdamStep read libtorch's error through gotch's last error,
// which libtch keeps per OS thread: call them on a Worker's thread, as all torch work.

// LeakyReLU returns leaky_relu(x, slope), a new tensor, with its gradient: one
// libtorch kernel each way. gotch's LeakyRelu has no slope argument (libtorch's
// default 0.01); PReLU with a fixed weight, or max(x, slope·x), cost a training
// step at width 64 about 7 % more. x is kept.
func LeakyReLU(x *ts.Tensor, slope float64) (*ts.Tensor, error) {
	var out C.tensor
	C.ganomaly_leaky_relu(&out, C.tensor(x.Ctensor()), C.double(slope))
	if err := ts.TorchErr(); err != nil {
		return nil, err
	}
	return ts.FromCtensor(unsafe.Pointer(out)), nil
}

// ZeroGrads zeroes the gradients of params in place, as PyTorch 1.13's
// optimizer.zero_grad() does; an undefined gradient stays undefined. One cgo call
// for all of them.
func ZeroGrads(params []*ts.Tensor) error {
	if len(params) == 0 {
		return nil
	}
	p := handles(params)
	C.ganomaly_zero_grads(&p[0], C.int64_t(len(p)))
	return ts.TorchErr()
}

// AdamStep is step number step (from 1) of torch.optim.Adam without weight decay
// or AMSGrad on params, with their first and second moments m and v, updated in
// place with PyTorch 1.13's own operations (its _single_tensor_adam); a parameter
// without a gradient is skipped, as PyTorch skips it; moments or a gradient that do
// not fit their parameter are an error, and then nothing is changed. One cgo call
// for the whole network: through gotch's ops the update made 14 tensors per
// parameter, most of the tensors a training step made.
func AdamStep(params, m, v []*ts.Tensor, lr, beta1, beta2, eps float64, step int) error {
	if len(m) != len(params) || len(v) != len(params) {
		return errors.New("torch.AdamStep: params, m and v differ in length")
	}
	if len(params) == 0 {
		return nil
	}
	p, mh, vh := handles(params), handles(m), handles(v)
	C.ganomaly_adam_step(&p[0], &mh[0], &vh[0], C.int64_t(len(p)), C.double(lr), C.double(beta1), C.double(beta2), C.double(eps), C.int64_t(step))
	return ts.TorchErr()
}

// handles lists the C++ tensors behind xs. The slice is Go memory holding C
// pointers only, which cgo lets C read during the call.
func handles(xs []*ts.Tensor) []C.tensor {
	h := make([]C.tensor, len(xs))
	for i, x := range xs {
		h[i] = C.tensor(x.Ctensor())
	}
	return h
}
