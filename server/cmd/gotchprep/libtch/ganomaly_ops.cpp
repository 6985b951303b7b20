// ganomaly_ops.cpp: what GANomaly's libtorch trainer needs and gotch v0.8.0 does not
// bind. gotchprep copies this file into the prepared libtch, so cgo compiles it with
// libtch's flags into every program that links gotch; server/internal/torch calls
// it. Each function takes and returns tensors as libtch does (torch::Tensor
// pointers) and reports an exception as libtch's PROTECT does, through the
// thread-local torch_last_err that gotch's ts.TorchErr reads.
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

// Defined in libtch's torch_api.cpp (its header defines it, so it cannot be
// included a second time here).
extern thread_local char *torch_last_err;

// Variadic, so that a comma outside parentheses in the body does not split it.
#define GANOMALY_PROTECT(...)                                                  \
  try {                                                                        \
    __VA_ARGS__                                                                \
  } catch (const std::exception &e) {                                          \
    torch_last_err = strdup(e.what());                                         \
  }

extern "C" {

// ganomaly_leaky_relu sets *out to leaky_relu(self, slope), a new tensor: one
// kernel each way, where gotch's binding fixes the slope at 0.01.
void ganomaly_leaky_relu(at::Tensor **out, at::Tensor *self, double slope) {
  GANOMALY_PROTECT(*out = new at::Tensor(at::leaky_relu(*self, slope));)
}

// ganomaly_zero_grads zeroes the gradients of n parameters, as PyTorch 1.13's
// optimizer.zero_grad() (set_to_none=False); undefined gradients stay undefined.
void ganomaly_zero_grads(at::Tensor **params, int64_t n) {
  GANOMALY_PROTECT(
    at::NoGradGuard no_grad;
    for (int64_t i = 0; i < n; i++) {
      at::Tensor g = params[i]->grad();
      if (g.defined()) g.zero_();
    }
  )
}

// ganomaly_adam_step is one step of torch.optim.Adam (no weight decay, no
// AMSGrad, single-tensor implementation) over n parameters and their moments m
// and v, with step the step's number counted from 1:
//
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − lr/(1−β1^step) · m / (√v / √(1−β2^step) + ε)
//
// in the very operations, and order, of PyTorch 1.13's torch/optim/adam.py
// (_single_tensor_adam, its default): one call for the whole network where the same
// update in gotch's ops made 14 tensors per parameter. A parameter without a
// gradient is skipped, as PyTorch skips it. Every moment and gradient is checked
// against its parameter first, so that a mismatch changes nothing.
void ganomaly_adam_step(at::Tensor **params, at::Tensor **m, at::Tensor **v, int64_t n,
                        double lr, double beta1, double beta2, double eps, int64_t step) {
  GANOMALY_PROTECT(
    at::NoGradGuard no_grad;
    const double bias_correction1 = 1 - std::pow(beta1, double(step));
    const double bias_correction2 = 1 - std::pow(beta2, double(step));
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);
    for (int64_t i = 0; i < n; i++) {
      const at::Tensor &p = *params[i];
      const at::Tensor g = p.grad();
      auto fits = [&p](const at::Tensor &t) {
        return t.defined() && t.sizes().equals(p.sizes()) && t.scalar_type() == p.scalar_type() &&
               t.device() == p.device();
      };
      if (!fits(*m[i]) || !fits(*v[i]) || (g.defined() && !fits(g)))
        throw std::invalid_argument("adam step: parameter " + std::to_string(i) +
                                    " has moments or a gradient of another size, type or device");
    }
    for (int64_t i = 0; i < n; i++) {
      at::Tensor g = params[i]->grad();
      if (!g.defined()) continue;
      m[i]->mul_(beta1).add_(g, 1 - beta1);
      v[i]->mul_(beta2).addcmul_(g, g, 1 - beta2);
      at::Tensor denom = (v[i]->sqrt() / bias_correction2_sqrt).add_(eps);
      params[i]->addcdiv_(*m[i], denom, -step_size);
    }
  )
}

}  // extern "C"
