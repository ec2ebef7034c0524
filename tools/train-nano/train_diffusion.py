"""Joint training of the text encoder + latent UNet (v-prediction, diffusers cosine schedule).

    nohup nice -n 10 /usr/bin/python3 train_diffusion.py --minutes 80 > /work/nano-run/diff.log 2>&1 &
    (add --resume to continue from /work/nano-run/diff_ckpt.pt; the LR schedule is wall-clock based)
"""
import argparse, copy, os, time
import numpy as np
import torch
import torch.nn.functional as F
from nano_model import TextEncoder, UNet, alphas_cumprod

ap = argparse.ArgumentParser()
ap.add_argument("--minutes", type=float, default=80)
ap.add_argument("--bs", type=int, default=64)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--p_white", type=float, default=0.5)
ap.add_argument("--p_uncond", type=float, default=0.1)
ap.add_argument("--ema", type=float, default=0.999)
ap.add_argument("--latents", default="/work/nano-run/latents.pt")
ap.add_argument("--ckpt", default="/work/nano-run/diff_ckpt.pt")
ap.add_argument("--save_every", type=float, default=240, help="seconds")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--resume", action="store_true")
ap.add_argument("--world", type=int, default=1, help="data-parallel processes (gloo all-reduce); launch each with --rank")
ap.add_argument("--rank", type=int, default=0)
ap.add_argument("--port", type=int, default=29517)
ap.add_argument("--d", type=int, default=128)
ap.add_argument("--c1", type=int, default=64)
ap.add_argument("--c2", type=int, default=128)
ap.add_argument("--layers", type=int, default=2, help="text encoder layers")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--attn16", default="cross", help="full | cross | none")
args = ap.parse_args()
import torch.distributed as dist
if args.world > 1:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=args.rank, world_size=args.world)
R0 = args.rank == 0
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
np.random.seed(args.seed)

D = torch.load(args.latents)
lat = D["latents"] * D["scaling_factor"]  # [B, N, 4, 16, 16], unit std
ids = D["ids"]
empty = D["empty_ids"]
NB, N = lat.shape[:2]
from clip_bpe import CLIPTokenizer
vocab = len(CLIPTokenizer.load("/work/main/BananaLab.Tests/Inference/Data/clip-bpe-tokenizer").encoder)
ac = alphas_cumprod()
attn16 = None if args.attn16 == "none" else args.attn16
cfg = dict(vocab_size=vocab, d=args.d, layers=args.layers, c1=args.c1, c2=args.c2, attn16=attn16)
te = TextEncoder(vocab, args.d, layers=args.layers)
un = UNet(args.d, args.c1, args.c2, attn16=attn16)
params = list(te.parameters()) + list(un.parameters())
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99))
ema_te, ema_un = copy.deepcopy(te), copy.deepcopy(un)
step, elapsed, losses = 0, 0.0, []
if args.resume and os.path.exists(args.ckpt):
    ck = torch.load(args.ckpt)
    te.load_state_dict(ck["te"]); un.load_state_dict(ck["unet"])
    ema_te.load_state_dict(ck["ema_te"]); ema_un.load_state_dict(ck["ema_unet"])
    opt.load_state_dict(ck["opt"]); step = ck["step"]; elapsed = ck["elapsed"]
    torch.set_rng_state(ck["torch_rng"]); np.random.set_state(ck["np_rng"])
    print(f"resumed step {step} elapsed {elapsed:.0f}s", flush=True)
if args.rank > 0:  # different batches per rank
    torch.manual_seed(args.seed + 1000 * args.rank + step); np.random.seed(args.seed + 1000 * args.rank + step)
if args.world > 1:
    for p in params:
        dist.broadcast(p.data, 0)
print("params te", sum(p.numel() for p in te.parameters()), "unet", sum(p.numel() for p in un.parameters()), flush=True)
ema_params = list(ema_te.parameters()) + list(ema_un.parameters())


def save():
    tmp = args.ckpt + ".tmp"
    torch.save({"te": te.state_dict(), "unet": un.state_dict(), "ema_te": ema_te.state_dict(),
                "ema_unet": ema_un.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed,
                "cfg": cfg, "scaling_factor": D["scaling_factor"], "torch_rng": torch.get_rng_state(),
                "np_rng": np.random.get_state()}, tmp)
    os.replace(tmp, args.ckpt)


total = args.minutes * 60
t_start = time.time() - elapsed
last_save = time.time()
t_log = time.time()
while True:
    elapsed = time.time() - t_start
    if args.world > 1:
        stop = torch.tensor([1.0 if elapsed > total else 0.0]); dist.all_reduce(stop)
        if stop.item() > 0:
            break
    elif elapsed > total:
        break
    frac = elapsed / total
    lr = args.lr * min(1.0, (step + 1) / 200) * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
    for g in opt.param_groups:
        g["lr"] = lr
    bs = args.bs
    n = torch.randint(0, N, (bs,))
    b = torch.where(torch.rand(bs) < args.p_white, torch.zeros(bs, dtype=torch.long), torch.randint(1, NB, (bs,)))
    x0 = lat[b, n]
    tid = ids[b, n].clone()
    drop = torch.rand(bs) < args.p_uncond
    tid[drop] = empty
    t = torch.randint(0, 1000, (bs,))
    a = ac[t].view(-1, 1, 1, 1)
    eps = torch.randn_like(x0)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    v = a.sqrt() * eps - (1 - a).sqrt() * x0
    pred = un(xt, t, te(tid))
    loss = F.mse_loss(pred, v)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if args.world > 1:  # average grads; share rank 0's clock so lr / stop decisions are identical
        flat = torch.cat([p.grad.flatten() for p in params] + [torch.tensor([elapsed if R0 else 0.0])])
        dist.all_reduce(flat)
        elapsed = float(flat[-1]); o = 0
        for p in params:
            n_ = p.numel(); p.grad.copy_(flat[o:o + n_].view_as(p) / args.world); o += n_
        lr = args.lr * min(1.0, (step + 1) / 200) * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * elapsed / total)))
        for g in opt.param_groups:
            g["lr"] = lr
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    step += 1
    dec = min(args.ema, (1 + step) / (10 + step))
    with torch.no_grad():
        for pe, p in zip(ema_params, params):
            pe.mul_(dec).add_(p.detach(), alpha=1 - dec)
    losses.append(loss.item())
    if not R0:
        continue
    if step % 25 == 0:
        now = time.time()
        print(f"step {step} t {elapsed:.0f}s loss {np.mean(losses[-25:]):.4f} lr {lr:.2e} s/step(last 25) {(now - t_log) / 25:.2f}", flush=True)
        t_log = now
    if time.time() - last_save > args.save_every:
        save(); last_save = time.time()
        print(f"saved step {step}", flush=True)
elapsed = time.time() - t_start
if not R0:
    raise SystemExit
save()
print(f"DONE step {step} elapsed {elapsed:.0f}s final loss(avg last 200) {np.mean(losses[-200:]):.4f}", flush=True)
