"""Tiny deterministic autoencoder: 64x64 RGB in [-1,1] <-> 4x16x16 latent.

block_out_channels = [32, 64, 64] (3 levels -> downsample factor 4).
Trained as a plain AE with relative latent noise (robust decoder) and a tiny
L2 penalty on the latent; the encoder output is the 'mean' (latent_sample).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

CH = [32, 64, 64]


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n1 = nn.GroupNorm(8, c)
        self.c1 = nn.Conv2d(c, c, 3, padding=1)
        self.n2 = nn.GroupNorm(8, c)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        h = self.c1(F.silu(self.n1(x)))
        h = self.c2(F.silu(self.n2(h)))
        return x + h


class Encoder(nn.Module):
    def __init__(self, ch=CH, zc=4):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        self.r0 = Res(ch[0])
        self.d1 = nn.Conv2d(ch[0], ch[1], 3, stride=2, padding=1)
        self.r1 = Res(ch[1])
        self.d2 = nn.Conv2d(ch[1], ch[2], 3, stride=2, padding=1)
        self.r2a = Res(ch[2])
        self.r2b = Res(ch[2])
        self.n = nn.GroupNorm(8, ch[2])
        self.out = nn.Conv2d(ch[2], zc, 3, padding=1)

    def forward(self, x):
        h = self.r0(self.conv_in(x))
        h = self.r1(self.d1(h))
        h = self.r2b(self.r2a(self.d2(h)))
        return self.out(F.silu(self.n(h)))


class Decoder(nn.Module):
    def __init__(self, ch=CH, zc=4):
        super().__init__()
        self.conv_in = nn.Conv2d(zc, ch[2], 3, padding=1)
        self.r2a = Res(ch[2])
        self.r2b = Res(ch[2])
        self.u1 = nn.Conv2d(ch[2], ch[1], 3, padding=1)
        self.r1 = Res(ch[1])
        self.u0 = nn.Conv2d(ch[1], ch[0], 3, padding=1)
        self.r0 = Res(ch[0])
        self.n = nn.GroupNorm(8, ch[0])
        self.out = nn.Conv2d(ch[0], 3, 3, padding=1)

    def forward(self, z):
        h = self.r2b(self.r2a(self.conv_in(z)))
        h = self.r1(self.u1(F.interpolate(h, scale_factor=2.0, mode="nearest")))
        h = self.r0(self.u0(F.interpolate(h, scale_factor=2.0, mode="nearest")))
        return self.out(F.silu(self.n(h)))


class AE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder()
        self.decoder = Decoder()
