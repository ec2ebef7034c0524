"""PyTorch eager sampler for banana-nano: diffusers DDIMScheduler (eta=0, trailing spacing,
v-prediction, set_alpha_to_one=False, steps_offset=0) + classifier-free guidance.
This is the reference the C# ONNX pipeline is checked against.

    /usr/bin/python3 sample.py --prompt "red apple" --prompt "grinning face" --seeds 0 1 \
        --steps 20 --guidance 5 --out /work/nano-run/samples.png

Pipeline (what the C# side must do):
  ids  = tokenizer(prompt) (77, eos-padded); uncond = tokenizer("")
  ctx  = text_encoder(cat[uncond, cond])
  x    = N(0,1) of shape [B,4,16,16] (init_noise_sigma = 1) from torch.Generator seeded per image
  for t in timesteps: v = unet(cat[x,x], t, ctx); v = v_u + g*(v_c - v_u); x = ddim_step(v, t, x)
  img  = vae_decoder(x / scaling_factor); rgb = clamp((img+1)/2, 0, 1)
"""
import argparse
import numpy as np
import torch
from PIL import Image

from nano_model import TextEncoder, UNet, alphas_cumprod
from vae2 import load_ae
from clip_bpe import CLIPTokenizer

NUM_TRAIN = 1000
AC = alphas_cumprod()


def ddim_timesteps(steps):
    """diffusers 'trailing' spacing."""
    step_ratio = NUM_TRAIN / steps
    ts = np.round(np.arange(NUM_TRAIN, 0, -step_ratio)).astype(np.int64) - 1
    return ts


def ddim_step(v, t, x, steps):
    """diffusers DDIMScheduler.step, eta=0, prediction_type=v_prediction, clip_sample=False."""
    prev_t = t - NUM_TRAIN // steps
    a_t = AC[t]
    a_prev = AC[prev_t] if prev_t >= 0 else AC[0]  # set_alpha_to_one=False -> final_alpha_cumprod = ac[0]
    x0 = a_t.sqrt() * x - (1 - a_t).sqrt() * v
    eps = a_t.sqrt() * v + (1 - a_t).sqrt() * x
    return a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps


class NanoPipeline:
    def __init__(self, ckpt="/work/nano-run/diff_ckpt.pt", vae=None, tokenizer=None, ema=True):
        """banana-nano 1 checkpoints use the BPE tokenizer and vae.AE (64 px); banana-nano 2
        checkpoints (cfg version 2) the concept lexicon (lexicon2) and vae2.AE8 (128 px).
        The sampler itself (DDIM, guidance) is the same for both."""
        ck = torch.load(ckpt, map_location="cpu")
        c = ck["cfg"]
        v2 = c.get("version", 1) == 2
        vae = vae or ("/work/nano2-run/vae2.pt" if v2 else "/work/nano-run/vae.pt")
        tokenizer = tokenizer or ("/work/nano2-run/tokenizer2" if v2 else "/work/main/BananaLab.Tests/Inference/Data/clip-bpe-tokenizer")
        self.te = TextEncoder(c["vocab_size"], c["d"], layers=c.get("layers", 4)).eval()
        self.unet = UNet(c["d"], c["c1"], c["c2"], attn16=c.get("attn16", "cross")).eval()
        self.te.load_state_dict(ck["ema_te" if ema else "te"])
        self.unet.load_state_dict(ck["ema_unet" if ema else "unet"])
        self.ae = load_ae(vae)
        if c.get("tokenizer") == "lexicon2":
            from lexicon2 import Lexicon
            self.tok = Lexicon.load(tokenizer)
        else:
            self.tok = CLIPTokenizer.load(tokenizer)
        self.sf = ck["scaling_factor"]
        self.step_count = ck["step"]

    @torch.no_grad()
    def __call__(self, prompts, seeds, steps=20, guidance=5.0, negative=""):
        B = len(prompts)
        cond = torch.tensor([self.tok(p) for p in prompts])
        unc = torch.tensor([self.tok(negative)] * B)
        ctx = self.te(torch.cat([unc, cond]))
        x = torch.stack([torch.randn(4, 16, 16, generator=torch.Generator().manual_seed(int(s))) for s in seeds])
        for t in ddim_timesteps(steps):
            tt = torch.full((2 * B,), int(t), dtype=torch.long)
            v = self.unet(torch.cat([x, x]), tt, ctx)
            vu, vc = v[:B], v[B:]
            v = vu + guidance * (vc - vu)
            x = ddim_step(v, int(t), x, steps)
        img = self.ae.decoder(x / self.sf)
        return ((img + 1) / 2).clamp(0, 1)  # [B,3,64,64] (banana-nano 2: [B,3,128,128])


def to_grid(imgs, ncol):
    a = (imgs.permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)
    n = len(a); nrow = (n + ncol - 1) // ncol; S = a.shape[1]
    g = np.full((nrow * S, ncol * S, 3), 255, np.uint8)
    for i, im in enumerate(a):
        r, c = divmod(i, ncol)
        g[r * S:(r + 1) * S, c * S:(c + 1) * S] = im
    return Image.fromarray(g)


DEFAULT_PROMPTS = ["grinning face", "red apple", "dog face", "rocket", "red heart", "sun with face",
                   "banana", "pile of poo", "red apple on a blue background", "ghost", "cat face",
                   "fire", "party popper", "slice of pizza", "snowman", "smiling face with sunglasses"]

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="/work/nano-run/diff_ckpt.pt")
    ap.add_argument("--vae", default=None, help="default: by checkpoint version")
    ap.add_argument("--tokenizer", default=None, help="default: by checkpoint version")
    ap.add_argument("--prompt", action="append")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="/work/nano-run/samples.png")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    pipe = NanoPipeline(a.ckpt, a.vae, a.tokenizer)
    prompts = a.prompt or DEFAULT_PROMPTS
    P = [p for s in a.seeds for p in prompts]
    S = [s for s in a.seeds for p in prompts]
    imgs = pipe(P, S, a.steps, a.guidance)
    to_grid(imgs, len(prompts)).save(a.out)
    print("step", pipe.step_count, "->", a.out)
