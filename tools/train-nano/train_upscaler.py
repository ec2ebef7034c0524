"""Tiny ESPCN-style x4 (and x2) super-resolution: residual over bicubic upsampling.
Input RGB [1,3,H,W] in [0,1] (dynamic H, W) -> output [1,3,sH,sW] in [0,1] (clamped in-graph).

Training pairs: emoji rendered at 109 px (native CBDT size), re-scaled to 109..136 px, composited
on random backgrounds, random 64*s crops (HR); LR = area-downscale by s, optional Gaussian blur and
noise. Held-out eval: emoji with index % 10 == 0 never used for training.

    nice -n 15 /usr/bin/python3 train_upscaler.py --scale 4 --minutes 10 --out /work/main/models/upscaler/x4
"""
import argparse, json, os, time, unicodedata
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont, ImageFilter

import data


class ESPCN(nn.Module):
    def __init__(self, scale=4, c=48):
        super().__init__()
        self.scale = scale
        self.body = nn.Sequential(
            nn.Conv2d(3, c, 5, padding=2), nn.PReLU(c),
            nn.Conv2d(c, c, 3, padding=1), nn.PReLU(c),
            nn.Conv2d(c, c, 3, padding=1), nn.PReLU(c),
            nn.Conv2d(c, 3 * scale * scale, 3, padding=1))
        self.ps = nn.PixelShuffle(scale)
        nn.init.zeros_(self.body[-1].weight); nn.init.zeros_(self.body[-1].bias)

    def forward(self, x):
        base = F.interpolate(x, scale_factor=float(self.scale), mode="bicubic", align_corners=False)
        return (base + self.ps(self.body(x))).clamp(0.0, 1.0)


def render_hr(font, chars, rng):
    """list of HR RGB float arrays (emoji 109..136 px on a random background, 160x160 canvas)."""
    out = []
    for ch in chars:
        im = Image.new("RGBA", (136, 128), (0, 0, 0, 0))
        ImageDraw.Draw(im).text((0, 0), ch, font=font, embedded_color=True)
        s = int(rng.integers(109, 137))
        im = im.resize((int(136 * s / 109), int(128 * s / 109)), Image.BICUBIC)
        u = rng.random()
        bg = (255, 255, 255) if u < 0.4 else tuple(int(v) for v in rng.integers(0, 256, 3))
        canvas = Image.new("RGBA", (176, 176), bg + (255,))
        canvas.alpha_composite(im, (int(rng.integers(0, 176 - im.size[0] + 1)), int(rng.integers(0, 176 - im.size[1] + 1))))
        out.append(canvas.convert("RGB"))
    return out


def make_pair(hr_img, scale, rng, patch, degrade=True):
    W = patch * scale
    x0 = int(rng.integers(0, hr_img.size[0] - W + 1)); y0 = int(rng.integers(0, hr_img.size[1] - W + 1))
    hr = hr_img.crop((x0, y0, x0 + W, y0 + W))
    lr = hr
    if degrade and rng.random() < 0.3:
        lr = lr.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.0))))
    lr = lr.resize((patch, patch), Image.BOX)
    lr = np.asarray(lr, np.float32) / 255.0
    if degrade and rng.random() < 0.3:
        lr = np.clip(lr + rng.normal(0, rng.uniform(0.002, 0.02), lr.shape).astype(np.float32), 0, 1)
    return lr, np.asarray(hr, np.float32) / 255.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--out", default="/work/main/models/upscaler/x4")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    _, names, cps = data.load()
    font = ImageFont.truetype(data.FONT, 109)
    chars = [chr(c) for c in cps]
    train_chars = [c for i, c in enumerate(chars) if i % 10 != 0]
    test_chars = [c for i, c in enumerate(chars) if i % 10 == 0]
    s = a.scale; patch = 40 // (s // 2) if s == 4 else 40
    patch = 24 if s == 4 else 40
    # held-out eval set (fixed, no blur/noise: clean area-downscaled crops)
    erng = np.random.default_rng(999)
    ev = [make_pair(h, s, erng, patch, degrade=False) for h in render_hr(font, test_chars, erng)]
    ev_lr = torch.from_numpy(np.stack([p[0] for p in ev])).permute(0, 3, 1, 2)
    ev_hr = torch.from_numpy(np.stack([p[1] for p in ev])).permute(0, 3, 1, 2)
    model = ESPCN(s)
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def psnr(x, y):
        mse = ((x - y) ** 2).flatten(1).mean(1)
        return (10 * torch.log10(1 / mse.clamp_min(1e-10))).mean().item()

    with torch.no_grad():
        bic = F.interpolate(ev_lr, scale_factor=float(s), mode="bicubic", align_corners=False).clamp(0, 1)
        p_bic = psnr(bic, ev_hr)
    print(f"held-out {len(ev)} crops: bicubic PSNR {p_bic:.2f} dB", flush=True)
    t0 = time.time(); step = 0; total = a.minutes * 60
    while time.time() - t0 < total:
        hrs = render_hr(font, [train_chars[i] for i in rng.integers(0, len(train_chars), 16)], rng)
        pairs = [make_pair(h, s, rng, patch) for h in hrs]
        lr = torch.from_numpy(np.stack([p[0] for p in pairs])).permute(0, 3, 1, 2)
        hr = torch.from_numpy(np.stack([p[1] for p in pairs])).permute(0, 3, 1, 2)
        frac = (time.time() - t0) / total
        for g in opt.param_groups:
            g["lr"] = 1e-3 * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(frac, 1))))
        loss = F.l1_loss(model(lr), hr)
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        if step % 200 == 0:
            with torch.no_grad():
                print(f"step {step} t {time.time()-t0:.0f}s loss {loss.item():.4f} held-out PSNR {psnr(model(ev_lr), ev_hr):.2f}", flush=True)
    model.eval()
    with torch.no_grad():
        p_model = psnr(model(ev_lr), ev_hr)
    print(f"FINAL steps {step} time {time.time()-t0:.0f}s held-out PSNR model {p_model:.2f} dB vs bicubic {p_bic:.2f} dB", flush=True)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "model.onnx")
    torch.onnx.export(model, (ev_lr[:1],), path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {2: "height", 3: "width"}, "output": {2: "out_height", 3: "out_width"}},
                      opset_version=17, do_constant_folding=True)
    import onnx
    m = onnx.load(path); onnx.checker.check_model(m)
    for v in list(m.graph.input) + list(m.graph.output):
        print(v.name, [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim])
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump({"scale": s, "input_range": [0, 1], "output_range": [0, 1], "channels": "RGB", "layout": "NCHW",
                   "input_name": "input", "output_name": "output", "architecture": "ESPCN residual over bicubic",
                   "params": sum(p.numel() for p in model.parameters()), "train_steps": step,
                   "heldout_psnr_db": round(p_model, 2), "heldout_bicubic_psnr_db": round(p_bic, 2)}, f, indent=2)
    torch.save(model.state_dict(), f"/work/nano-run/upscaler_x{s}.pt")


if __name__ == "__main__":
    main()
