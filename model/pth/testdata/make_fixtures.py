#!/usr/bin/python3
"""Builds the fixtures of package model/pth: official-layout GANomaly NetG checkpoints
saved by PyTorch, the outputs PyTorch computes with them in eval mode, and malformed or
hostile checkpoints that the importer must refuse.

Run from anywhere with the system Python that has torch (1.13 here):

    /usr/bin/python3 model/pth/testdata/make_fixtures.py

The Go tests only read the files this writes; they never run Python. Running it again
gives the same files, except the legacy ones, whose storage keys are memory addresses. The networks
follow samet-akcay/ganomaly lib/networks.py (Encoder, Decoder, NetG, NetD), module
names included, since the names are what an importer reads.
"""

import io
import json
import os
import struct
import zipfile

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))


class Encoder(nn.Module):
    def __init__(self, isize, nz, nc, ndf, n_extra_layers=0, add_final_conv=True):
        super().__init__()
        assert isize % 16 == 0, "isize has to be a multiple of 16"
        main = nn.Sequential()
        main.add_module('initial-conv-{0}-{1}'.format(nc, ndf), nn.Conv2d(nc, ndf, 4, 2, 1, bias=False))
        main.add_module('initial-relu-{0}'.format(ndf), nn.LeakyReLU(0.2, inplace=True))
        csize, cndf = isize / 2, ndf
        for t in range(n_extra_layers):
            main.add_module('extra-layers-{0}-{1}-conv'.format(t, cndf), nn.Conv2d(cndf, cndf, 3, 1, 1, bias=False))
            main.add_module('extra-layers-{0}-{1}-batchnorm'.format(t, cndf), nn.BatchNorm2d(cndf))
            main.add_module('extra-layers-{0}-{1}-relu'.format(t, cndf), nn.LeakyReLU(0.2, inplace=True))
        while csize > 4:
            in_feat, out_feat = cndf, cndf * 2
            main.add_module('pyramid-{0}-{1}-conv'.format(in_feat, out_feat), nn.Conv2d(in_feat, out_feat, 4, 2, 1, bias=False))
            main.add_module('pyramid-{0}-batchnorm'.format(out_feat), nn.BatchNorm2d(out_feat))
            main.add_module('pyramid-{0}-relu'.format(out_feat), nn.LeakyReLU(0.2, inplace=True))
            cndf, csize = cndf * 2, csize / 2
        if add_final_conv:
            main.add_module('final-{0}-{1}-conv'.format(cndf, 1), nn.Conv2d(cndf, nz, 4, 1, 0, bias=False))
        self.main = main

    def forward(self, x):
        return self.main(x)


class Decoder(nn.Module):
    def __init__(self, isize, nz, nc, ngf, n_extra_layers=0):
        super().__init__()
        assert isize % 16 == 0, "isize has to be a multiple of 16"
        cngf, tisize = ngf // 2, 4
        while tisize != isize:
            cngf, tisize = cngf * 2, tisize * 2
        main = nn.Sequential()
        main.add_module('initial-{0}-{1}-convt'.format(nz, cngf), nn.ConvTranspose2d(nz, cngf, 4, 1, 0, bias=False))
        main.add_module('initial-{0}-batchnorm'.format(cngf), nn.BatchNorm2d(cngf))
        main.add_module('initial-{0}-relu'.format(cngf), nn.ReLU(True))
        csize = 4
        while csize < isize // 2:
            main.add_module('pyramid-{0}-{1}-convt'.format(cngf, cngf // 2), nn.ConvTranspose2d(cngf, cngf // 2, 4, 2, 1, bias=False))
            main.add_module('pyramid-{0}-batchnorm'.format(cngf // 2), nn.BatchNorm2d(cngf // 2))
            main.add_module('pyramid-{0}-relu'.format(cngf // 2), nn.ReLU(True))
            cngf, csize = cngf // 2, csize * 2
        for t in range(n_extra_layers):
            main.add_module('extra-layers-{0}-{1}-conv'.format(t, cngf), nn.Conv2d(cngf, cngf, 3, 1, 1, bias=False))
            main.add_module('extra-layers-{0}-{1}-batchnorm'.format(t, cngf), nn.BatchNorm2d(cngf))
            main.add_module('extra-layers-{0}-{1}-relu'.format(t, cngf), nn.ReLU(True))
        main.add_module('final-{0}-{1}-convt'.format(cngf, nc), nn.ConvTranspose2d(cngf, nc, 4, 2, 1, bias=False))
        main.add_module('final-{0}-tanh'.format(nc), nn.Tanh())
        self.main = main

    def forward(self, z):
        return self.main(z)


class NetG(nn.Module):
    def __init__(self, isize, nc, nz, ngf, extralayers=0):
        super().__init__()
        self.encoder1 = Encoder(isize, nz, nc, ngf, extralayers)
        self.decoder = Decoder(isize, nz, nc, ngf, extralayers)
        self.encoder2 = Encoder(isize, nz, nc, ngf, extralayers)

    def forward(self, x):
        latent_i = self.encoder1(x)
        gen_imag = self.decoder(latent_i)
        latent_o = self.encoder2(gen_imag)
        return gen_imag, latent_i, latent_o


class NetD(nn.Module):
    def __init__(self, isize, nc, ngf, extralayers=0):
        super().__init__()
        model = Encoder(isize, 1, nc, ngf, extralayers)
        layers = list(model.main.children())
        self.features = nn.Sequential(*layers[:-1])
        self.classifier = nn.Sequential(layers[-1])
        self.classifier.add_module('Sigmoid', nn.Sigmoid())


def randomise(net, gen):
    """Random weights and batch-norm statistics far from their defaults, so that a
    mix-up of running_mean/running_var or train-mode batch norm shows in the outputs."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                fan_in = m.weight[0].numel() if isinstance(m, nn.Conv2d) else m.weight.shape[0] * 4
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (1.5 / fan_in ** 0.5))
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(0.5 + torch.rand(c, generator=gen))
                m.bias.copy_(0.2 * torch.randn(c, generator=gen))
                m.running_mean.copy_(0.3 * torch.randn(c, generator=gen))
                m.running_var.copy_(0.5 + 1.5 * torch.rand(c, generator=gen))
                m.num_batches_tracked.fill_(7)
    return net.eval()


def save(obj, name, legacy=False):
    path = os.path.join(HERE, name)
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return path


def write_safetensors(name, tensors, metadata):
    """A safetensors file of float32 tensors, written by hand (8-byte little-endian
    header length, JSON header, raw little-endian data) so that no package is needed."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for key in sorted(tensors):
        t = tensors[key].detach().to(torch.float32).contiguous()
        raw = t.numpy().astype('<f4').tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def official(tag, isize, nc, nz, ngf, extralayers, seed, bare):
    gen = torch.Generator().manual_seed(seed)
    net = randomise(NetG(isize, nc, nz, ngf, extralayers), gen)
    sd = net.state_dict()
    save({"epoch": 3, "state_dict": sd}, tag + "_netG.pth")
    if bare:  # one bare state dict is enough; config a's would add 240 KB
        save(sd, tag + "_bare.pth")
    save({"epoch": 3, "state_dict": sd}, tag + "_legacy.pth", legacy=True)
    x = torch.rand((4, nc, isize, isize), generator=gen) * 2 - 1
    with torch.no_grad():
        xhat, z, zhat = net(x)
    cfg = {"image_size": isize, "channels": nc, "latent": nz, "width": ngf, "extra_layers": extralayers}
    write_safetensors(tag + "_outputs.safetensors",
                      {"x": x, "z": z.reshape(4, nz), "xhat": xhat, "zhat": zhat.reshape(4, nz)},
                      {"config": json.dumps(cfg), "torch": torch.__version__,
                       "note": "NetG in eval mode; z = encoder1(x), xhat = decoder(z), zhat = encoder2(xhat)"})
    return net


class Evil:
    """Pickles as a call of os.system (posix.system): pickling does not run it, and
    the importer must refuse it rather than run it."""

    def __reduce__(self):
        return (os.system, ("echo this checkpoint ran code",))


class EvalCall:
    def __reduce__(self):
        return (eval, ("1+1",))


def rewrite_zip(src, dst, change):
    """Copies the zip archive src to dst, passing each entry's bytes through change."""
    with zipfile.ZipFile(os.path.join(HERE, src)) as zin, \
            zipfile.ZipFile(os.path.join(HERE, dst), "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            zout.writestr(fixed, change(info.filename, zin.read(info.filename)))


def hostile():
    # A tiny official generator (isize 16, nc 1, nz 4, ngf 2) as the base of the bad files.
    gen = torch.Generator().manual_seed(99)
    net = randomise(NetG(16, 1, 4, 2), gen)
    sd = net.state_dict()
    save({"epoch": 1, "state_dict": sd}, "tiny_netG.pth")
    save({k: (v.double() if v.is_floating_point() else v) for k, v in sd.items()}, "tiny_float64.pth")
    save({k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}, "tiny_float16.pth")
    save({"module." + k: v for k, v in sd.items()}, "tiny_dataparallel.pth")
    save({"epoch": 1, "state_dict": sd}, "tiny_legacy.pth", legacy=True)

    save({"epoch": 1, "state_dict": sd, "hook": Evil()}, "bad_os_system.pth")
    save({"epoch": 1, "state_dict": sd, "hook": EvalCall()}, "bad_eval.pth")
    save(net, "bad_whole_module.pth")  # torch.save(model) pickles the classes

    renamed = dict(sd)
    renamed["decoder.main.pyramid-4-2-convtX.weight"] = renamed.pop("decoder.main.pyramid-4-2-convt.weight")
    save({"epoch": 1, "state_dict": renamed}, "bad_names.pth")

    reshaped = dict(sd)
    reshaped["encoder2.main.final-4-1-conv.weight"] = torch.zeros(4, 4, 3, 3)
    save({"epoch": 1, "state_dict": reshaped}, "bad_shape.pth")

    missing = dict(sd)
    del missing["encoder2.main.pyramid-4-batchnorm.running_var"]
    save(missing, "bad_missing.pth")

    nan = {k: v.clone() for k, v in sd.items()}
    nan["decoder.main.initial-4-4-convt.weight"][1, 2, 3, 0] = float("nan")
    save({"epoch": 1, "state_dict": nan}, "bad_nan.pth")

    netd = randomise(NetD(16, 1, 2), gen)
    save({"epoch": 1, "state_dict": netd.state_dict()}, "bad_netD.pth")

    save({"epoch": 1, "state_dict": {k: v.int() for k, v in sd.items()}}, "bad_int32.pth")

    # A storage whose record holds fewer bytes than the tensor declares.
    rewrite_zip("tiny_netG.pth", "bad_short_storage.pth",
                lambda name, data: data[:len(data) // 2] if name.endswith("/data/3") else data)


if __name__ == "__main__":
    torch.manual_seed(0)
    official("a", isize=32, nc=1, nz=16, ngf=8, extralayers=0, seed=1, bare=False)
    official("b", isize=16, nc=3, nz=8, ngf=8, extralayers=1, seed=2, bare=True)
    hostile()
    total = sum(os.path.getsize(os.path.join(HERE, f)) for f in os.listdir(HERE))
    print("testdata: %d files, %d bytes" % (len(os.listdir(HERE)), total))
