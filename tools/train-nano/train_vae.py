"""Train the tiny AE.  nice -n 10 /usr/bin/python3 train_vae.py --minutes 10"""
import argparse, os, time
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import data
from vae import AE

ap = argparse.ArgumentParser()
ap.add_argument("--minutes", type=float, default=10)
ap.add_argument("--bs", type=int, default=32)
ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--out", default="/work/nano-run/vae.pt")
ap.add_argument("--seed", type=int, default=0)
args = ap.parse_args()
torch.set_num_threads(2)
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)
rgba, names, _ = data.load()
N = len(names)
cols = list(data.BACKGROUNDS.values())


def batch(bs):
    idx = rng.integers(0, N, bs)
    out = np.empty((bs, 64, 64, 3), np.float32)
    for i, j in enumerate(idx):
        u = rng.random()
        bg = (255, 255, 255) if u < 0.4 else (cols[rng.integers(len(cols))] if u < 0.8 else tuple(rng.integers(0, 256, 3)))
        im = data.composite(rgba[j], bg)
        if rng.random() < 0.5:
            im = im[:, ::-1]
        out[i] = im
    return torch.from_numpy(out).permute(0, 3, 1, 2).contiguous() * 2 - 1


model = AE()
print("params", sum(p.numel() for p in model.parameters()))
opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
t0 = time.time(); step = 0; total = args.minutes * 60
while True:
    el = time.time() - t0
    if el > total:
        break
    lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(1.0, el / total))))
    for g in opt.param_groups:
        g["lr"] = lr
    x = batch(args.bs)
    z = model.encoder(x)
    zn = z + 0.1 * z.detach().std() * torch.randn_like(z)
    y = model.decoder(zn)
    rec = F.l1_loss(y, x) + F.mse_loss(y, x)
    loss = rec + 1e-5 * z.pow(2).mean()
    opt.zero_grad(); loss.backward(); opt.step(); step += 1
    if step % 50 == 0:
        print(f"step {step} t {el:.0f}s rec {rec.item():.4f} zstd {z.std().item():.3f} lr {lr:.2e}", flush=True)
    if step % 500 == 0:
        torch.save({"model": model.state_dict(), "step": step}, args.out)
torch.save({"model": model.state_dict(), "step": step}, args.out)
# recon grid
model.eval()
with torch.no_grad():
    x = batch(16); y = model.decoder(model.encoder(x))
    mse = F.mse_loss(y, x).item()
    g = torch.cat([x, y], 0).clamp(-1, 1).add(1).mul(127.5).byte().permute(0, 2, 3, 1).numpy()
    g = g.reshape(2, 16, 64, 64, 3).transpose(0, 2, 1, 3, 4).reshape(128, 1024, 3)
    Image.fromarray(g).save(args.out.replace(".pt", "_recon.png"))
    psnr = 10 * np.log10(4 / mse)
print(f"done steps {step} time {time.time()-t0:.0f}s eval psnr {psnr:.2f} dB")
