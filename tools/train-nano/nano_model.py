"""banana-nano text encoder + latent UNet + diffusers-exact cosine schedule."""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

MAX_LEN = 77
NEG = -1e4  # additive mask value (finite: safe in fp32/ONNX)


# ---------------------------------------------------------------- schedule
def betas_for_alpha_bar(num_diffusion_timesteps=1000, max_beta=0.999):
    """diffusers.schedulers.scheduling_ddim.betas_for_alpha_bar (cosine)."""
    def alpha_bar_fn(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = []
    for i in range(num_diffusion_timesteps):
        t1 = i / num_diffusion_timesteps
        t2 = (i + 1) / num_diffusion_timesteps
        betas.append(min(1 - alpha_bar_fn(t2) / alpha_bar_fn(t1), max_beta))
    return torch.tensor(betas, dtype=torch.float32)


def alphas_cumprod():
    return torch.cumprod(1.0 - betas_for_alpha_bar(), dim=0)


# ---------------------------------------------------------------- text encoder
class Attention(nn.Module):
    def __init__(self, dim, heads, ctx_dim=None):
        super().__init__()
        ctx_dim = ctx_dim or dim
        self.h = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(ctx_dim, dim, bias=False)
        self.v = nn.Linear(ctx_dim, dim, bias=False)
        self.o = nn.Linear(dim, dim)

    def forward(self, x, ctx=None, mask=None):
        ctx = x if ctx is None else ctx
        B, N, C = x.shape
        M = ctx.shape[1]
        d = C // self.h
        q = self.q(x).reshape(B, N, self.h, d).transpose(1, 2)
        k = self.k(ctx).reshape(B, M, self.h, d).transpose(1, 2)
        v = self.v(ctx).reshape(B, M, self.h, d).transpose(1, 2)
        a = torch.matmul(q, k.transpose(-1, -2)) * (d ** -0.5)
        if mask is not None:
            a = a + mask
        a = a.softmax(-1)
        out = torch.matmul(a, v).transpose(1, 2).reshape(B, N, C)
        return self.o(out)


class TextLayer(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = Attention(d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask=mask)
        return x + self.mlp(self.ln2(x))


class TextEncoder(nn.Module):
    """CLIP-like: token + learned position embeddings, causal pre-LN transformer, final LN."""
    def __init__(self, vocab_size, d=128, layers=4, heads=4):
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d)
        self.pos = nn.Parameter(torch.randn(1, MAX_LEN, d) * 0.01)
        self.layers = nn.ModuleList([TextLayer(d, heads) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(d)
        self.register_buffer("mask", torch.full((MAX_LEN, MAX_LEN), NEG).triu(1), persistent=False)
        nn.init.normal_(self.tok.weight, std=0.02)

    def forward(self, input_ids):
        x = self.tok(input_ids) + self.pos
        for l in self.layers:
            x = l(x, self.mask)
        return self.ln_final(x)


# ---------------------------------------------------------------- UNet
def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, tdim):
        super().__init__()
        self.n1 = nn.GroupNorm(8, cin)
        self.c1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.t = nn.Linear(tdim, cout)
        self.n2 = nn.GroupNorm(8, cout)
        self.c2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        nn.init.zeros_(self.c2.weight); nn.init.zeros_(self.c2.bias)

    def forward(self, x, temb):
        h = self.c1(F.silu(self.n1(x)))
        h = h + self.t(temb)[:, :, None, None]
        h = self.c2(F.silu(self.n2(h)))
        return self.skip(x) + h


class SpatialTransformer(nn.Module):
    def __init__(self, c, ctx_dim, heads=4, self_attn=True):
        super().__init__()
        self.norm = nn.GroupNorm(8, c)
        self.proj_in = nn.Linear(c, c)
        self.ln1 = nn.LayerNorm(c) if self_attn else None
        self.self_attn = Attention(c, heads) if self_attn else None
        self.ln2 = nn.LayerNorm(c)
        self.cross_attn = Attention(c, heads, ctx_dim)
        self.ln3 = nn.LayerNorm(c)
        self.ff = nn.Sequential(nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c))
        self.proj_out = nn.Linear(c, c)
        nn.init.zeros_(self.proj_out.weight); nn.init.zeros_(self.proj_out.bias)

    def forward(self, x, ctx):
        B, C, H, W = x.shape
        h = self.norm(x).reshape(B, C, H * W).transpose(1, 2)
        h = self.proj_in(h)
        if self.self_attn is not None:
            h = h + self.self_attn(self.ln1(h))
        h = h + self.cross_attn(self.ln2(h), ctx)
        h = h + self.ff(self.ln3(h))
        h = self.proj_out(h).transpose(1, 2).reshape(B, C, H, W)
        return x + h


class UNet(nn.Module):
    def __init__(self, ctx_dim=128, c1=64, c2=128, tdim=256, attn16="cross"):
        super().__init__()
        self.tdim0 = c1
        self.temb = nn.Sequential(nn.Linear(c1, tdim), nn.SiLU(), nn.Linear(tdim, tdim))
        self.conv_in = nn.Conv2d(4, c1, 3, padding=1)
        self.d16 = ResBlock(c1, c1, tdim)
        self.a16d = SpatialTransformer(c1, ctx_dim, self_attn=(attn16 == "full")) if attn16 else None
        self.down = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.d8 = ResBlock(c1, c2, tdim)
        self.a8d = SpatialTransformer(c2, ctx_dim)
        self.m1 = ResBlock(c2, c2, tdim)
        self.am = SpatialTransformer(c2, ctx_dim)
        self.m2 = ResBlock(c2, c2, tdim)
        self.u8 = ResBlock(c2 + c2, c2, tdim)
        self.a8u = SpatialTransformer(c2, ctx_dim)
        self.up = nn.Conv2d(c2, c1, 3, padding=1)
        self.u16 = ResBlock(c1 + c1, c1, tdim)
        self.a16u = SpatialTransformer(c1, ctx_dim, self_attn=(attn16 == "full")) if attn16 else None
        self.norm_out = nn.GroupNorm(8, c1)
        self.conv_out = nn.Conv2d(c1, 4, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight); nn.init.zeros_(self.conv_out.bias)

    def forward(self, sample, timestep, encoder_hidden_states):
        ctx = encoder_hidden_states
        temb = self.temb(timestep_embedding(timestep, self.tdim0))
        h = self.conv_in(sample)
        h16 = self.d16(h, temb)
        if self.a16d is not None:
            h16 = self.a16d(h16, ctx)
        h = self.down(h16)
        h8 = self.a8d(self.d8(h, temb), ctx)
        h = self.m2(self.am(self.m1(h8, temb), ctx), temb)
        h = self.a8u(self.u8(torch.cat([h, h8], 1), temb), ctx)
        h = self.up(F.interpolate(h, scale_factor=2.0, mode="nearest"))
        h = self.u16(torch.cat([h, h16], 1), temb)
        if self.a16u is not None:
            h = self.a16u(h, ctx)
        return self.conv_out(F.silu(self.norm_out(h)))
