"""PyTorch's side of `make bench-peers`: the official GANomaly generator in eval mode.

Run with Debian's Python and PyTorch (apt-get install python3-torch python3-numpy):
    /usr/bin/python3 torch_worker.py

The network (ganomaly_torch.py) is built from the facts in shared/GANOMALY.md (the
official lib/networks.py layout and module names), so that our weights load by name
with load_state_dict. Same line protocol as our worker (server/cmd/benchpeers/worker):
    {"op":"load","name":N,"weights":W.safetensors,"input":X.f32,"config":{...}}
    {"op":"run","name":N,"batch":B,"iters":K,"out":DIR}  ->  {"ok":true,"seconds":T}
It is a yardstick for the benchmark only: the product does not need Python.
"""
import json
import os
import struct
import sys
import time

import numpy as np
import torch

from ganomaly_torch import NetG

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {t['dtype']}, want F32")
        lo, hi = t["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[base + lo:base + hi], dtype="<f4").copy().reshape(t["shape"]))
    return out, header.get("__metadata__", {})


models = {}


def handle(req):
    if req["op"] == "load":
        tensors, meta = read_safetensors(req["weights"])
        cfg = json.loads(meta["config"])
        net = NetG(cfg)
        missing, unexpected = net.load_state_dict(tensors, strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise ValueError(f"weights do not fit: missing {missing[:3]}, unexpected {unexpected[:3]}")
        net.eval()
        x = np.fromfile(req["input"], dtype="<f4")
        s, c = cfg["image_size"], cfg["channels"]
        models[req["name"]] = (net, torch.from_numpy(x.reshape(-1, c, s, s)))
        return {}
    if req["op"] == "run":
        net, x = models[req["name"]]
        xb = x[:req["batch"]].contiguous()
        with torch.no_grad():
            start = time.perf_counter()
            for _ in range(req["iters"]):
                out = net(xb)
            seconds = time.perf_counter() - start
        if req.get("out"):
            for name, t in zip(("xhat", "z", "zhat"), out):
                t.numpy().astype("<f4").tofile(os.path.join(req["out"], name + ".f32"))
        return {"seconds": seconds}
    raise ValueError(f"unknown op {req['op']}")


def main():
    for line in sys.stdin:
        serve(line)


def serve(line):
    try:
        reply = {"ok": True, **handle(json.loads(line))}
    except Exception as e:  # the driver reports it with the runner's name
        reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
