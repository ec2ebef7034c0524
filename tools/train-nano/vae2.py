"""banana-nano 2 autoencoder: 128x128 RGB in [-1,1] <-> 4x16x16 latent (8x downsampling).

Deterministic conv AE like vae.py (GroupNorm + SiLU residual blocks, stride-2 convs down,
nearest-upsample + conv up), one more level. block_out_channels = CH2 = [24, 48, 96, 128]
at 128/64/32/16 px. The 128 px level has no residual block (one conv in, one conv out):
that level is 4x the pixels of the others and emoji are flat-coloured, so the cost goes
to the 64/32/16 levels instead. The UNet sees the same 4x16x16 latent as banana-nano 1.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from vae import Res

CH2 = [24, 48, 96, 128]


class Encoder8(nn.Module):
    def __init__(self, ch=CH2, zc=4):
        super().__init__()
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)              # 128
        self.d1 = nn.Conv2d(ch[0], ch[1], 3, stride=2, padding=1)     # 64
        self.r1 = Res(ch[1])
        self.d2 = nn.Conv2d(ch[1], ch[2], 3, stride=2, padding=1)     # 32
        self.r2 = Res(ch[2])
        self.d3 = nn.Conv2d(ch[2], ch[3], 3, stride=2, padding=1)     # 16
        self.r3a = Res(ch[3])
        self.r3b = Res(ch[3])
        self.n = nn.GroupNorm(8, ch[3])
        self.out = nn.Conv2d(ch[3], zc, 3, padding=1)

    def forward(self, x):
        h = F.silu(self.conv_in(x))
        h = self.r1(self.d1(h))
        h = self.r2(self.d2(h))
        h = self.r3b(self.r3a(self.d3(h)))
        return self.out(F.silu(self.n(h)))


class Decoder8(nn.Module):
    def __init__(self, ch=CH2, zc=4):
        super().__init__()
        self.conv_in = nn.Conv2d(zc, ch[3], 3, padding=1)              # 16
        self.r3a = Res(ch[3])
        self.r3b = Res(ch[3])
        self.u2 = nn.Conv2d(ch[3], ch[2], 3, padding=1)                # 32
        self.r2 = Res(ch[2])
        self.u1 = nn.Conv2d(ch[2], ch[1], 3, padding=1)                # 64
        self.r1 = Res(ch[1])
        self.u0 = nn.Conv2d(ch[1], ch[0], 3, padding=1)                # 128
        self.n = nn.GroupNorm(8, ch[0])
        self.out = nn.Conv2d(ch[0], 3, 3, padding=1)

    def forward(self, z):
        up = lambda h: F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = self.r3b(self.r3a(self.conv_in(z)))
        h = self.r2(self.u2(up(h)))
        h = self.r1(self.u1(up(h)))
        h = self.u0(up(h))
        return self.out(F.silu(self.n(h)))


class AE8(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder8()
        self.decoder = Decoder8()


def load_ae(path):
    """Load an autoencoder checkpoint of either generation (banana-nano 1 or 2)."""
    ck = torch.load(path, map_location="cpu")
    if ck.get("arch") == "AE8":
        m = AE8()
    else:
        from vae import AE
        m = AE()
    m.load_state_dict(ck["model"])
    return m.eval()
