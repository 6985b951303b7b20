"""PyTorch's side of `make bench-peers`: the official GANomaly generator in eval mode.

Run with Debian's Python and PyTorch (apt-get install python3-torch python3-numpy):
    /usr/bin/python3 torch_worker.py

The network is built here from the facts in shared/GANOMALY.md (the official
lib/networks.py layout and module names), so that our weights load by name with
load_state_dict. Same line protocol as our worker (server/cmd/benchpeers/worker):
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
import torch.nn as nn

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def encoder(isize, nz, nc, ngf, extra):
    main = nn.Sequential()
    main.add_module(f"initial-conv-{nc}-{ngf}", nn.Conv2d(nc, ngf, 4, 2, 1, bias=False))
    main.add_module(f"initial-relu-{ngf}", nn.LeakyReLU(0.2, inplace=True))
    csize, cndf = isize // 2, ngf
    for t in range(extra):
        main.add_module(f"extra-layers-{t}-{cndf}-conv", nn.Conv2d(cndf, cndf, 3, 1, 1, bias=False))
        main.add_module(f"extra-layers-{t}-{cndf}-batchnorm", nn.BatchNorm2d(cndf))
        main.add_module(f"extra-layers-{t}-{cndf}-relu", nn.LeakyReLU(0.2, inplace=True))
    while csize > 4:
        main.add_module(f"pyramid-{cndf}-{cndf * 2}-conv", nn.Conv2d(cndf, cndf * 2, 4, 2, 1, bias=False))
        main.add_module(f"pyramid-{cndf * 2}-batchnorm", nn.BatchNorm2d(cndf * 2))
        main.add_module(f"pyramid-{cndf * 2}-relu", nn.LeakyReLU(0.2, inplace=True))
        cndf *= 2
        csize //= 2
    main.add_module(f"final-{cndf}-1-conv", nn.Conv2d(cndf, nz, 4, 1, 0, bias=False))
    holder = nn.Module()
    holder.main = main
    return holder


def decoder(isize, nz, nc, ngf, extra):
    cngf, tisize = ngf // 2, 4
    while tisize != isize:
        cngf *= 2
        tisize *= 2
    main = nn.Sequential()
    main.add_module(f"initial-{nz}-{cngf}-convt", nn.ConvTranspose2d(nz, cngf, 4, 1, 0, bias=False))
    main.add_module(f"initial-{cngf}-batchnorm", nn.BatchNorm2d(cngf))
    main.add_module(f"initial-{cngf}-relu", nn.ReLU(True))
    csize = 4
    while csize < isize // 2:
        main.add_module(f"pyramid-{cngf}-{cngf // 2}-convt", nn.ConvTranspose2d(cngf, cngf // 2, 4, 2, 1, bias=False))
        main.add_module(f"pyramid-{cngf // 2}-batchnorm", nn.BatchNorm2d(cngf // 2))
        main.add_module(f"pyramid-{cngf // 2}-relu", nn.ReLU(True))
        cngf //= 2
        csize *= 2
    for t in range(extra):
        main.add_module(f"extra-layers-{t}-{cngf}-conv", nn.Conv2d(cngf, cngf, 3, 1, 1, bias=False))
        main.add_module(f"extra-layers-{t}-{cngf}-batchnorm", nn.BatchNorm2d(cngf))
        main.add_module(f"extra-layers-{t}-{cngf}-relu", nn.ReLU(True))
    main.add_module(f"final-{cngf}-{nc}-convt", nn.ConvTranspose2d(cngf, nc, 4, 2, 1, bias=False))
    main.add_module(f"final-{nc}-tanh", nn.Tanh())
    holder = nn.Module()
    holder.main = main
    return holder


class NetG(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        args = (cfg["image_size"], cfg["latent"], cfg["channels"], cfg["width"], cfg["extra_layers"])
        self.encoder1 = encoder(*args)
        self.decoder = decoder(*args)
        self.encoder2 = encoder(*args)

    def forward(self, x):
        z = self.encoder1.main(x)
        xhat = self.decoder.main(z)
        zhat = self.encoder2.main(xhat)
        return xhat, z, zhat


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


for line in sys.stdin:
    try:
        reply = {"ok": True, **handle(json.loads(line))}
    except Exception as e:  # the driver reports it with the runner's name
        reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
