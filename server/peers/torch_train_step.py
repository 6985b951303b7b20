"""PyTorch's side of make bench-train: one GANomaly training step, timed, beside ours.

Run with Debian's Python and PyTorch (the very libtorch our gotch trainer links):
    /usr/bin/python3 torch_train_step.py --compare GO_BENCH_OUTPUT

It builds the official networks (ganomaly_torch.py), does the step exactly as
server/internal/torchengine/step.go does (G forward; D on x and on x̂ detached; features of x̂ for
the feature-matching term; G loss 1·adv + 50·L1 + 1·latent L2 and Adam; D loss
½(BCE real + BCE fake) and Adam), times it after a warm-up, and with --compare reads
`go test -bench TrainStep` output and prints both and the ratio. A yardstick only: the
product does not need Python.
"""
import argparse
import os
import re
import statistics
import sys
import time

import torch

from ganomaly_torch import NetD, NetG, train_step, weights_init


def step_fn(cfg, batch, seed=0):
    torch.manual_seed(seed)
    netg, netd = NetG(cfg), NetD(cfg)
    netg.apply(weights_init)
    netd.apply(weights_init)
    netg.train()
    netd.train()
    opt_g = torch.optim.Adam(netg.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(netd.parameters(), lr=2e-4, betas=(0.5, 0.999))
    s = cfg["image_size"]
    x = torch.rand(batch, cfg["channels"], s, s) * 2 - 1

    def step():
        return train_step(netg, netd, opt_g, opt_d, x)["g"]

    return step


def time_steps(width, batch, steps, threads, rounds):
    """The fastest of rounds medians of steps steps each, as the Go side counts its
    rounds, with the fastest and slowest step of all."""
    torch.set_num_threads(threads)
    cfg = {"image_size": 32, "channels": 1, "latent": 100, "width": width, "extra_layers": 0}
    step = step_fn(cfg, batch)
    step()  # warm-up: allocators, kernels
    medians, all_times = [], []
    for _ in range(rounds):
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            step()
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
        all_times += times
    return 1e3 * min(medians), 1e3 * min(all_times), 1e3 * max(all_times)


GO_LINE = re.compile(r"Benchmark(?:TrainStep|Step)/Batch(\d+)_32x32_nc1_ngf(\d+)\S*\s+\d+\s+.*?([\d.]+) ms/iter")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compare", action="append", default=[], metavar="LABEL=FILE",
                    help="output of a Go step benchmark (server/internal/torchengine TrainStep, model/learn Step) to print beside ours, the fastest of its rounds; repeatable")
    ap.add_argument("--widths", default="16,64")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=1, help="rounds of --steps steps; the fastest round's median counts")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    ap.add_argument("--threads", type=int, default=cpus,
                    help="torch threads (default: every CPU this process may use, as the Go trainer does)")
    a = ap.parse_args()
    ours = []  # (label, {(batch, width): ms})
    for spec in a.compare:
        label, _, path = spec.partition("=")
        times = {}
        for line in open(path):
            m = GO_LINE.search(line)
            if m:
                # Several rounds of one benchmark: the fastest (see bench-train).
                key, ms = (int(m.group(1)), int(m.group(2))), float(m.group(3))
                times[key] = min(times.get(key, ms), ms)
        if not times:
            sys.exit(f"no step benchmark lines in {path}")
        ours.append((label, times))
    print(f"\nGANomaly training step, batch {a.batch}, 32x32 grey, nz 100; PyTorch {torch.__version__} on {a.threads} threads, median of {a.steps} steps (the fastest of {a.rounds} rounds)")
    head = f"{'width':>5}  {'PyTorch ms':>10}  {'(min-max)':>15}"
    for label, _ in ours:
        head += f"  {label + ' ms':>{max(12, len(label) + 3)}}  {'/ PyTorch':>9}"
    print(head)
    for w in [int(v) for v in a.widths.split(",")]:
        med, lo, hi = time_steps(w, a.batch, a.steps, a.threads, a.rounds)
        row = f"{w:>5}  {med:>10.1f}  {f'({lo:.1f}-{hi:.1f})':>15}"
        for label, times in ours:
            go = times.get((a.batch, w))
            row += f"  {(f'{go:.1f}' if go else '-'):>{max(12, len(label) + 3)}}  {(f'{go / med:.2f}x' if go else '-'):>9}"
        print(row)
    print("x / PyTorch: a step's time over PyTorch's (the target for gotch is at most 1.1x).")
    byLabel = dict(ours)
    native, wasm = byLabel.get("pure Go, 1 thread"), byLabel.get("pure Go wasm, 1 thread")
    if native and wasm:
        for key in sorted(set(native) & set(wasm)):
            print(f"width {key[1]}: the wasm step takes {wasm[key] / native[key]:.2f}x the native pure-Go step, one thread each (target: at most 3x)")


if __name__ == "__main__":
    main()
