"""Makes step_fixture.safetensors: one GANomaly training step in PyTorch, for the Go test
that holds the pure-Go step (model/learn) and server/internal/torchengine's gotch step to it (their
step_fixture_test.go).

Run once with Debian's PyTorch (apt-get install python3-torch); the test suite reads the
committed file and needs no Python:
    /usr/bin/python3 model/learn/testdata/make_step_fixture.py

The networks are server/peers/ganomaly_torch.py's (the official layout and names, from
shared/GANOMALY.md). The step is the one model/learn and server/internal/torchengine/step.go do: G forward in train
mode; D on x and on x̂ detached; D's features of x̂ for the feature-matching term;
G loss 1·adv + 50·L1 + 1·latent L2 and Adam(2e-4, 0.5, 0.999); then D loss
½(BCE(D(x), 1) + BCE(D(x̂), 0)) and its Adam. The file holds the weights and buffers
before (g.*, d.*), the input x, the weights and buffers after (g_after.*, d_after.*),
and the losses in its metadata.
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "server", "peers"))
from ganomaly_torch import NetD, NetG, train_step, weights_init  # noqa: E402

CFG = {"image_size": 16, "channels": 1, "latent": 8, "width": 8, "extra_layers": 0}
BATCH = 8


def tensors_of(prefix, net):
    return {prefix + k: v.detach().clone() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for key in sorted(tensors):
        raw = tensors[key].to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(tensors[key].shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    torch.manual_seed(7)
    torch.set_num_threads(1)
    netg, netd = NetG(CFG), NetD(CFG)
    netg.apply(weights_init)
    netd.apply(weights_init)
    netg.train()
    netd.train()
    s = CFG["image_size"]
    x = torch.rand(BATCH, CFG["channels"], s, s) * 2 - 1
    out = {**tensors_of("g.", netg), **tensors_of("d.", netd), "x": x.clone()}

    opt_g = torch.optim.Adam(netg.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(netd.parameters(), lr=2e-4, betas=(0.5, 0.999))
    losses = train_step(netg, netd, opt_g, opt_d, x)

    out.update(tensors_of("g_after.", netg))
    out.update(tensors_of("d_after.", netd))
    meta = {"config": json.dumps(CFG), "batch": str(BATCH), "losses": json.dumps(losses),
            "torch": torch.__version__, "script": "model/learn/testdata/make_step_fixture.py"}
    write_safetensors(os.path.join(HERE, "step_fixture.safetensors"), out, meta)
    print("losses", losses)


if __name__ == "__main__":
    main()
