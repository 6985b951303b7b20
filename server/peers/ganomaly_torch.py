"""The official GANomaly networks in PyTorch, from the facts in shared/GANOMALY.md (the
layout and module names of samet-akcay/ganomaly's lib/networks.py), for the
yardsticks of make bench-peers and make bench-train. The product does not use it.
"""
import torch
import torch.nn as nn


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


class NetD(nn.Module):
    """The official discriminator: an encoder with nz = 1, split into features (all but
    the last convolution) and classifier (the last convolution and a sigmoid)."""

    def __init__(self, cfg):
        super().__init__()
        enc = encoder(cfg["image_size"], 1, cfg["channels"], cfg["width"], cfg["extra_layers"]).main
        layers = list(enc.children())
        self.features = nn.Sequential(*layers[:-1])
        self.classifier = nn.Sequential(layers[-1], nn.Sigmoid())

    def forward(self, x):
        features = self.features(x)
        return self.classifier(features).view(-1, 1).squeeze(1), features


def weights_init(m):
    """The official (DCGAN) initialisation."""
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


def train_step(netg, netd, opt_g, opt_d, x):
    """One GANomaly training step exactly as server/internal/torchengine/step.go (and model/learn) do it: G forward;
    D on x and on x̂ detached; D's features of x̂ for the feature-matching term; G loss
    1·adv + 50·L1 + 1·latent L2 and its Adam step; then D loss ½(BCE(D(x), 1) +
    BCE(D(x̂), 0)) and its Adam step; D re-initialised when its loss falls below 1e-5.
    Returns the five losses."""
    xhat, z, zhat = netg(x)
    pred_real, feat_real = netd(x)
    pred_fake, _ = netd(xhat.detach())
    feat_fake = netd.features(xhat)
    adv = torch.mean((feat_real.detach() - feat_fake) ** 2)
    con = nn.functional.l1_loss(xhat, x)
    enc = torch.mean((zhat - z) ** 2)
    err_g = adv * 1 + con * 50 + enc * 1
    opt_g.zero_grad()
    err_g.backward()
    opt_g.step()
    bce = nn.functional.binary_cross_entropy
    err_d = 0.5 * (bce(pred_real, torch.ones_like(pred_real)) + bce(pred_fake, torch.zeros_like(pred_fake)))
    opt_d.zero_grad()
    err_d.backward()
    opt_d.step()
    if err_d.item() < 1e-5:
        netd.apply(weights_init)
    return {"adv": adv.item(), "con": con.item(), "enc": enc.item(), "g": err_g.item(), "d": err_d.item()}
