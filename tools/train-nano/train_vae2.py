"""Train the banana-nano 2 autoencoder (vae2.AE8, 128x128 <-> 4x16x16).

Batches mix singles (p 0.5) and two-emoji compositions (data2.compose, random pair,
relation and order) on white (p 0.4), one of the 10 palette colours (p 0.4) or a random
RGB colour (p 0.2); singles are mirrored with p 0.5. Loss: L1 + MSE, with relative
Gaussian noise (10% of the latent std) on the latent before decoding and a 1e-5 L2
penalty on the latent, as in train_vae.py.

Every random draw of step s on rank r comes from np.random.default_rng([seed, r, s]) and
torch.Generator seeded from it, so a run resumed from a checkpoint continues with exactly
the batches it would have drawn. The LR is a wall-clock cosine (warm-up 100 steps, decay to
10% at --minutes); `elapsed` is stored in the checkpoint.

    for r in 0 1; do OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 nohup nice -n 19 /usr/bin/python3 \
        train_vae2.py --minutes 80 --world 2 --rank $r > /work/nano2-run/vae2_rank$r.log 2>&1 & done
    (same command + --resume continues from --out)
"""
import argparse, os, time
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import data2
from vae2 import AE8

ap = argparse.ArgumentParser()
ap.add_argument("--minutes", type=float, default=80)
ap.add_argument("--max_steps", type=int, default=0, help="stop after this many steps (tests)")
ap.add_argument("--bs", type=int, default=16, help="per process")
ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--p_comp", type=float, default=0.5)
ap.add_argument("--data", default="/work/nano2-run/emoji128.npz")
ap.add_argument("--out", default="/work/nano2-run/vae2.pt")
ap.add_argument("--save_every", type=float, default=180, help="seconds")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--resume", action="store_true")
ap.add_argument("--world", type=int, default=1)
ap.add_argument("--rank", type=int, default=0)
ap.add_argument("--port", type=int, default=29527)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--init", default="", help="start from this AE checkpoint's weights (fresh optimizer, step 0)")
ap.add_argument("--decoder_only", action="store_true",
                help="freeze the encoder: improves decoding without changing the latents the diffusion model trains on")
ap.add_argument("--sched", default="wall", help="wall: cosine over --minutes of wall clock; steps: over --sched_steps (tests)")
ap.add_argument("--sched_steps", type=int, default=1000)
args = ap.parse_args()
import torch.distributed as dist
if args.world > 1:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=args.rank, world_size=args.world)
R0 = args.rank == 0
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
rgba, names, _ = data2.load(args.data)
N = len(names)
cols = list(data2.BG.values())[1:]


def sample_image(rng):
    u = rng.random()
    bg = (255, 255, 255) if u < 0.4 else (cols[rng.integers(len(cols))] if u < 0.8 else tuple(int(c) for c in rng.integers(0, 256, 3)))
    if rng.random() < args.p_comp:
        i, j = rng.choice(N, 2, replace=False)
        rel = data2.RELATIONS[rng.integers(3)]
        return data2.compose(rgba[i], rgba[j], rel, bg)
    im = data2.single(rgba[rng.integers(N)], bg)
    return im[:, ::-1] if rng.random() < 0.5 else im


def to_tensor(ims):
    return torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).contiguous() * 2 - 1


def batch(step, rank):
    rng = np.random.default_rng([args.seed, rank, step])
    x = to_tensor([sample_image(rng) for _ in range(args.bs)])
    g = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
    return x, g


# fixed evaluation set: 24 singles + 24 compositions (seed 12345), same for every run
_er = np.random.default_rng(12345)
EVAL = []
for k in range(48):
    bg = (255, 255, 255) if k % 3 == 0 else cols[_er.integers(len(cols))]
    if k < 24:
        EVAL.append(data2.single(rgba[_er.integers(N)], bg))
    else:
        i, j = _er.choice(N, 2, replace=False)
        EVAL.append(data2.compose(rgba[i], rgba[j], data2.RELATIONS[k % 3], bg))
EVAL = to_tensor(EVAL)


def evaluate(m):
    with torch.no_grad():
        y = torch.cat([m.decoder(m.encoder(EVAL[i:i + 16])) for i in range(0, 48, 16)])
    se = (y.clamp(-1, 1) - EVAL).pow(2).flatten(1).mean(1)
    psnr = lambda v: float(10 * np.log10(4 / v.mean().item()))
    return psnr(se), psnr(se[:24]), psnr(se[24:]), y


model = AE8()
if args.init:
    model.load_state_dict(torch.load(args.init, map_location="cpu")["model"])
if args.decoder_only:
    for p in model.encoder.parameters():
        p.requires_grad_(False)
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
step, elapsed = 0, 0.0
if args.resume and os.path.exists(args.out):
    ck = torch.load(args.out)
    model.load_state_dict(ck["model"]); opt.load_state_dict(ck["opt"])
    step, elapsed = ck["step"], ck["elapsed"]
    print(f"resumed step {step} elapsed {elapsed:.0f}s", flush=True)
params = [p for p in model.parameters() if p.requires_grad]
if args.world > 1:
    for p in params:
        dist.broadcast(p.data, 0)
if R0:
    print("params", sum(p.numel() for p in params), flush=True)


def save():
    tmp = args.out + ".tmp"
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed,
                "arch": "AE8", "args": vars(args)}, tmp)
    os.replace(tmp, args.out)


total = args.minutes * 60
t_start = time.time() - elapsed
last_save = time.time(); t_log = time.time(); recs = []
while True:
    elapsed = time.time() - t_start
    stop = elapsed > total or (args.max_steps and step >= args.max_steps)
    if args.world > 1:
        s = torch.tensor([1.0 if stop else 0.0]); dist.all_reduce(s); stop = s.item() > 0
    if stop:
        break
    x, g = batch(step, args.rank)
    z = model.encoder(x)
    zn = z + 0.1 * z.detach().std() * torch.randn(z.shape, generator=g)
    y = model.decoder(zn)
    rec = F.l1_loss(y, x) + F.mse_loss(y, x)
    loss = rec + 1e-5 * z.pow(2).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if args.world > 1:  # average grads; rank 0's clock decides lr and stopping for everyone
        flat = torch.cat([p.grad.flatten() for p in params] + [torch.tensor([elapsed if R0 else 0.0])])
        dist.all_reduce(flat)
        elapsed = float(flat[-1]); o = 0
        for p in params:
            n_ = p.numel(); p.grad.copy_(flat[o:o + n_].view_as(p) / args.world); o += n_
    frac = step / args.sched_steps if args.sched == "steps" else elapsed / total
    lr = args.lr * min(1.0, (step + 1) / 100) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(1.0, frac))))
    for gr in opt.param_groups:
        gr["lr"] = lr
    opt.step(); step += 1
    recs.append(rec.item())
    if not R0:
        continue
    if step % 25 == 0:
        now = time.time()
        print(f"step {step} t {elapsed:.0f}s rec {np.mean(recs[-25:]):.4f} zstd {z.std().item():.3f} lr {lr:.2e} "
              f"s/step {(now - t_log) / 25:.2f}", flush=True)
        t_log = now
    if time.time() - last_save > args.save_every:
        save(); last_save = time.time()
        p_all, p_s, p_c, _ = evaluate(model)
        print(f"saved step {step}; eval PSNR all {p_all:.2f} singles {p_s:.2f} compositions {p_c:.2f} dB", flush=True)
if not R0:
    raise SystemExit
save()
p_all, p_s, p_c, y = evaluate(model)
g = torch.cat([EVAL[::3], y[::3]], 0).clamp(-1, 1).add(1).mul(127.5).byte().permute(0, 2, 3, 1).numpy()
g = g.reshape(2, 16, 128, 128, 3).transpose(0, 2, 1, 3, 4).reshape(256, 2048, 3)
Image.fromarray(g).save(args.out.replace(".pt", "_recon.png"))
print(f"DONE steps {step} elapsed {elapsed:.0f}s eval PSNR all {p_all:.2f} singles {p_s:.2f} compositions {p_c:.2f} dB",
      flush=True)
