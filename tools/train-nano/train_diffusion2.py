"""banana-nano 2: joint training of the text encoder + latent UNet on singles and compositions.

Same model family, schedule, v-prediction, AdamW, EMA and data-parallel layout as
train_diffusion.py; what changed:
  * input ids come from the concept lexicon (lexicon2.Lexicon) applied to a raw caption drawn
    from the caption grammar (captions2) at every step, instead of fixed BPE-tokenized names;
  * half of each batch (--p_comp) are pre-encoded two-emoji compositions (encode_latents2.py),
    captioned "<first> <relation> <second> [on a <colour> background]";
  * every random draw of step s on rank r comes from np.random.default_rng([seed, r, s]) (and
    a torch.Generator seeded from it), so `--resume` continues with exactly the batches,
    timesteps and noise the run would have used without the interruption;
  * the checkpoint (every --save_every seconds, atomic) holds model, EMA, optimizer, step,
    elapsed wall-clock seconds and the config; an EMA-only snapshot is kept every
    --snapshot_every seconds (diff2_ema_step<N>.pt) for later distillation.
The LR is cosine over --minutes of *training* wall-clock (elapsed is restored on resume),
200 warm-up steps, floor 5 %; --sched steps uses --sched_steps instead (tests).

    for r in 0 1; do OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 nohup nice -n 19 /usr/bin/python3 \
      train_diffusion2.py --minutes 600 --world 2 --rank $r > /work/nano2-run/diff2_rank$r.log 2>&1 & done
    (identical command + --resume to continue from --ckpt)
"""
import argparse, copy, os, time
import numpy as np
import torch
import torch.nn.functional as F

import data2
import captions2
from lexicon2 import Lexicon
from nano_model import TextEncoder, UNet, alphas_cumprod

ap = argparse.ArgumentParser()
ap.add_argument("--minutes", type=float, default=600)
ap.add_argument("--sched", default="wall", help="wall | steps")
ap.add_argument("--sched_steps", type=int, default=1000)
ap.add_argument("--max_steps", type=int, default=0, help="stop after this step (tests)")
ap.add_argument("--bs", type=int, default=32, help="per process")
ap.add_argument("--lr", type=float, default=8e-4)
ap.add_argument("--p_comp", type=float, default=0.5)
ap.add_argument("--p_white", type=float, default=0.6, help="singles: white background")
ap.add_argument("--p_uncond", type=float, default=0.1)
ap.add_argument("--ema", type=float, default=0.999)
ap.add_argument("--latents", default="/work/nano2-run/latents2.pt")
ap.add_argument("--lexicon", default="/work/nano2-run/tokenizer2")
ap.add_argument("--ckpt", default="/work/nano2-run/diff2_ckpt.pt")
ap.add_argument("--save_every", type=float, default=240, help="seconds")
ap.add_argument("--snapshot_every", type=float, default=3600, help="seconds; 0 = never")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--resume", action="store_true")
ap.add_argument("--world", type=int, default=1)
ap.add_argument("--rank", type=int, default=0)
ap.add_argument("--port", type=int, default=29537)
ap.add_argument("--d", type=int, default=128)
ap.add_argument("--c1", type=int, default=64)
ap.add_argument("--c2", type=int, default=128)
ap.add_argument("--layers", type=int, default=3, help="text encoder layers")
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--attn16", default="cross", help="full | cross | none")
ap.add_argument("--no_heldout", action="store_true", help="tests only: do not load the held-out exclusions")
args = ap.parse_args()
import torch.distributed as dist
if args.world > 1:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=args.rank, world_size=args.world)
R0 = args.rank == 0
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)

D = torch.load(args.latents)
sf = D["scaling_factor"]
singles = D["singles"] * sf          # [11, N, 4, 16, 16], unit std
comps = D["comps"] * sf              # [K, 4, 16, 16]
meta = D["comp_meta"].numpy()        # [K, 4] first, second, relation, background
NB, N = singles.shape[:2]
K = len(comps)
lex = Lexicon.load(args.lexicon)
cap = captions2.Captions(D["names"], D["cps"], lex, heldout=not args.no_heldout)
for i, j, _, _ in meta:
    assert cap.pair_allowed(int(i), int(j)), "a held-out pair is in the composition latents"
vocab = lex.V + 2
ac = alphas_cumprod()
attn16 = None if args.attn16 == "none" else args.attn16
cfg = dict(vocab_size=vocab, d=args.d, layers=args.layers, c1=args.c1, c2=args.c2, attn16=attn16,
           version=2, tokenizer="lexicon2", image_size=data2.SIZE, latent_size=16)
te = TextEncoder(vocab, args.d, layers=args.layers)
un = UNet(args.d, args.c1, args.c2, attn16=attn16)
params = list(te.parameters()) + list(un.parameters())
opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.99))
ema_te, ema_un = copy.deepcopy(te), copy.deepcopy(un)
step, elapsed = 0, 0.0
if args.resume and os.path.exists(args.ckpt):
    ck = torch.load(args.ckpt)
    te.load_state_dict(ck["te"]); un.load_state_dict(ck["unet"])
    ema_te.load_state_dict(ck["ema_te"]); ema_un.load_state_dict(ck["ema_unet"])
    opt.load_state_dict(ck["opt"]); step = ck["step"]; elapsed = ck["elapsed"]
    print(f"resumed step {step} elapsed {elapsed:.0f}s", flush=True)
if args.world > 1:
    for p in params:
        dist.broadcast(p.data, 0)
if R0:
    print("params te", sum(p.numel() for p in te.parameters()), "unet", sum(p.numel() for p in un.parameters()),
          "| singles", tuple(singles.shape), "compositions", K, "| banned words", len(cap.ban), "pairs",
          len(cap.pairs_ban), flush=True)
ema_params = list(ema_te.parameters()) + list(ema_un.parameters())
empty = torch.tensor(lex(""))


def batch(step, rank, bs):
    """Deterministic in (seed, rank, step): latents x0 [bs,4,16,16], ids [bs,77], t, noise, captions."""
    rng = np.random.default_rng([args.seed, rank, step])
    x0, ids, caps = [], [], []
    for _ in range(bs):
        if rng.random() < args.p_comp:
            k = int(rng.integers(K)); i, j, r, b = (int(v) for v in meta[k])
            c = cap.composition_caption(i, j, data2.RELATIONS[r], data2.BG_WORDS[b], rng)
            x0.append(comps[k])
        else:
            e = int(rng.integers(N))
            b = 0 if rng.random() < args.p_white else 1 + int(rng.integers(NB - 1))
            c = cap.single_caption(e, data2.BG_WORDS[b], rng)
            x0.append(singles[b, e])
        if rng.random() < args.p_uncond:
            c = ""
        caps.append(cap.check(c))
        ids.append(lex(c))
    g = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
    t = torch.randint(0, 1000, (bs,), generator=g)
    x0 = torch.stack(x0)
    eps = torch.randn(x0.shape, generator=g)
    return x0, torch.tensor(ids), t, eps, caps


def save(path=None, ema_only=False):
    path = path or args.ckpt
    tmp = path + ".tmp"
    if ema_only:
        obj = {"ema_te": ema_te.state_dict(), "ema_unet": ema_un.state_dict(), "step": step, "elapsed": elapsed,
               "cfg": cfg, "scaling_factor": sf}
    else:
        obj = {"te": te.state_dict(), "unet": un.state_dict(), "ema_te": ema_te.state_dict(),
               "ema_unet": ema_un.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed,
               "cfg": cfg, "scaling_factor": sf, "args": vars(args)}
    torch.save(obj, tmp)
    os.replace(tmp, path)


def lr_at(step, elapsed):
    frac = step / args.sched_steps if args.sched == "steps" else elapsed / (args.minutes * 60)
    return args.lr * min(1.0, (step + 1) / 200) * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * min(1.0, frac))))


total = args.minutes * 60
t_start = time.time() - elapsed
last_save = time.time()
last_snap = elapsed
t_log = time.time()
losses = []
if R0 and step == 0:
    print("example captions:", batch(0, 0, 6)[4], flush=True)
while True:
    elapsed = time.time() - t_start
    stop = (args.sched == "wall" and elapsed > total) or (args.max_steps and step >= args.max_steps) \
        or (args.sched == "steps" and step >= args.sched_steps)
    if args.world > 1:
        s = torch.tensor([1.0 if stop else 0.0]); dist.all_reduce(s); stop = s.item() > 0
    if stop:
        break
    x0, tid, t, eps, _ = batch(step, args.rank, args.bs)
    a = ac[t].view(-1, 1, 1, 1)
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    v = a.sqrt() * eps - (1 - a).sqrt() * x0
    loss = F.mse_loss(un(xt, t, te(tid)), v)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if args.world > 1:  # average grads; rank 0's clock decides lr / stop / saves for everyone
        flat = torch.cat([p.grad.flatten() for p in params] + [torch.tensor([elapsed if R0 else 0.0])])
        dist.all_reduce(flat)
        elapsed = float(flat[-1]); o = 0
        for p in params:
            n_ = p.numel(); p.grad.copy_(flat[o:o + n_].view_as(p) / args.world); o += n_
    lr = lr_at(step, elapsed)
    for gr in opt.param_groups:
        gr["lr"] = lr
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
        print(f"step {step} t {elapsed:.0f}s loss {np.mean(losses[-25:]):.4f} lr {lr:.2e} s/step(last 25) "
              f"{(now - t_log) / 25:.2f}", flush=True)
        t_log = now
    if time.time() - last_save > args.save_every:
        save(); last_save = time.time()
        print(f"saved step {step} elapsed {elapsed:.0f}s", flush=True)
    if args.snapshot_every and elapsed - last_snap > args.snapshot_every:
        save(args.ckpt.replace(".pt", f"_ema_step{step}.pt"), ema_only=True); last_snap = elapsed
        print(f"snapshot step {step}", flush=True)
if not R0:
    raise SystemExit
save()
print(f"DONE step {step} elapsed {elapsed:.0f}s final loss(avg last 200) {np.mean(losses[-200:]):.4f}", flush=True)
