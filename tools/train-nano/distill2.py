"""banana-nano-turbo: progressive distillation of banana-nano 2 into a 4-step, guidance-free UNet.

Method: progressive distillation (Salimans & Ho, "Progressive Distillation for Fast Sampling of
Diffusion Models", ICLR 2022, Algorithm 2) with the guidance folded in as in Meng et al., "On
Distillation of Guided Diffusion Models" (CVPR 2023): the first teacher is banana-nano 2 with
classifier-free guidance w (--guidance), so the student needs one UNet row per image instead of two.

A stage with a student of N steps: its sampling grid is the DDIM "trailing" grid the runtime uses
(sample.ddim_timesteps(N)); from z_t at a grid point t the teacher takes two DDIM steps,
t -> t - 1000//(2N) -> t_prev (t_prev = t - 1000//N, the student's own DDIM target; below 0 it is
the final alpha ac[0]), and the student is trained so that ONE DDIM step from z_t lands on the
teacher's z_{t_prev}. Its x-target is (eq. 8 of the paper)
    x~ = (z'' - (s''/s_t) z_t) / (a'' - (s''/s_t) a_t),   a = sqrt(ac), s = sqrt(1 - ac),
the loss is the truncated-SNR weighted x error max(a_t^2/s_t^2, 1) * |x^ - x~|^2, where the
student's x^ = a_t z_t - s_t v^ comes from its v prediction (so it stays a v-prediction UNet).
z_t = a_t x0 + s_t eps with x0 from the same latents and caption grammar as train_diffusion2.py
(held-out words and pairs excluded the same way); the text encoder is banana-nano 2's, frozen.

Stages (default): 16 -> 8 (teacher = guided banana-nano 2), then 8 -> 4 (teacher = the EMA of
the first student, no guidance). The student of each stage starts from its teacher's weights.
Each stage trains for --minutes of wall-clock with a cosine LR; a checkpoint per stage is saved
atomically every --save_every seconds and --resume continues a stage (batches are a function of
(seed, stage, rank, step), as in train_diffusion2.py).

    for r in 0 1; do OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 nohup nice -n 19 /usr/bin/python3 \
      distill2.py --minutes 20 --world 2 --rank $r >> /work/nano2-run/distill2_rank$r.log 2>&1 & done
Output: /work/nano2-run/turbo_ckpt.pt, a version-2 checkpoint (ema_te = teacher's text encoder,
ema_unet = the 4-step student) that sample.py and export_onnx.py read like any other, with
cfg["turbo"] = {"steps": 4, "guidance": 1.0}.
"""
import argparse, copy, os, time
import numpy as np
import torch

import data2
import captions2
from lexicon2 import Lexicon
from nano_model import TextEncoder, UNet, alphas_cumprod
from sample import ddim_timesteps

ap = argparse.ArgumentParser()
ap.add_argument("--teacher", default="/work/nano2-run/diff2_ckpt.pt")
ap.add_argument("--out", default="/work/nano2-run/turbo_ckpt.pt")
ap.add_argument("--stages", type=int, nargs="+", default=[8, 4], help="student step counts, in order")
ap.add_argument("--minutes", type=float, default=20, help="per stage")
ap.add_argument("--max_steps", type=int, default=0, help="per stage; tests")
ap.add_argument("--guidance", type=float, default=3.0, help="the first teacher's classifier-free guidance")
ap.add_argument("--bs", type=int, default=32, help="per process")
ap.add_argument("--lr", type=float, default=2e-4)
ap.add_argument("--ema", type=float, default=0.995)
ap.add_argument("--p_comp", type=float, default=0.5)
ap.add_argument("--p_white", type=float, default=0.6)
ap.add_argument("--latents", default="/work/nano2-run/latents2.pt")
ap.add_argument("--lexicon", default="/work/nano2-run/tokenizer2")
ap.add_argument("--save_every", type=float, default=240)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--resume", action="store_true")
ap.add_argument("--world", type=int, default=1)
ap.add_argument("--rank", type=int, default=0)
ap.add_argument("--port", type=int, default=29547)
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()
import torch.distributed as dist
if args.world > 1:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}", rank=args.rank, world_size=args.world)
R0 = args.rank == 0
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)

D = torch.load(args.latents)
sf = D["scaling_factor"]
singles = D["singles"] * sf
comps = D["comps"] * sf
meta = D["comp_meta"].numpy()
NB, N_EMOJI = singles.shape[:2]
K = len(comps)
lex = Lexicon.load(args.lexicon)
cap = captions2.Captions(D["names"], D["cps"], lex, heldout=True)
for i, j, _, _ in meta:
    assert cap.pair_allowed(int(i), int(j)), "a held-out pair is in the composition latents"
AC = alphas_cumprod()

tk = torch.load(args.teacher, map_location="cpu")
cfg = dict(tk["cfg"])
te = TextEncoder(cfg["vocab_size"], cfg["d"], layers=cfg["layers"]).eval()
te.load_state_dict(tk["ema_te"])
for p in te.parameters():
    p.requires_grad_(False)


def unet_from(state):
    u = UNet(cfg["d"], cfg["c1"], cfg["c2"], attn16=cfg["attn16"])
    u.load_state_dict(state)
    return u


empty = torch.tensor([lex("")])


def ab(t):
    """sqrt(ac), sqrt(1 - ac) at integer timesteps t (a tensor); t < 0 is the final alpha ac[0]."""
    a = AC[t.clamp(min=0)]
    return a.sqrt().view(-1, 1, 1, 1), (1 - a).sqrt().view(-1, 1, 1, 1)


def ddim_to(v, t, t_to, z):
    """One DDIM (eta 0) step of a v-prediction from t to t_to (per row)."""
    a, s = ab(t)
    a2, s2 = ab(t_to)
    x0 = a * z - s * v
    eps = a * v + s * z
    return a2 * x0 + s2 * eps


def batch(stage, step, rank, bs, grid):
    """Deterministic in (seed, stage, rank, step): x0, ids, grid timesteps t, noise."""
    rng = np.random.default_rng([args.seed, 1000 + stage, rank, step])
    x0, ids = [], []
    for _ in range(bs):
        if rng.random() < args.p_comp:
            k = int(rng.integers(K)); i, j, r, b = (int(v) for v in meta[k])
            c = cap.composition_caption(i, j, data2.RELATIONS[r], data2.BG_WORDS[b], rng)
            x0.append(comps[k])
        else:
            e = int(rng.integers(N_EMOJI))
            b = 0 if rng.random() < args.p_white else 1 + int(rng.integers(NB - 1))
            c = cap.single_caption(e, data2.BG_WORDS[b], rng)
            x0.append(singles[b, e])
        ids.append(lex(cap.check(c)))
    g = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
    t = torch.as_tensor(grid)[torch.randint(0, len(grid), (bs,), generator=g)]
    x0 = torch.stack(x0)
    return x0, torch.tensor(ids), t, torch.randn(x0.shape, generator=g)


teacher_state = tk["ema_unet"]
teacher_guided = True
stages = []  # (student steps, training steps, seconds) per stage, for the exported model's record
for si, n in enumerate(args.stages):
    path = args.out.replace(".pt", f"_stage{si}_n{n}.pt")
    teacher = unet_from(teacher_state).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = unet_from(teacher_state)
    ema = copy.deepcopy(student)
    params = list(student.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0, betas=(0.9, 0.99))
    step, elapsed, done = 0, 0.0, False
    if args.resume and os.path.exists(path):
        ck = torch.load(path)
        student.load_state_dict(ck["student"]); ema.load_state_dict(ck["ema_unet"]); opt.load_state_dict(ck["opt"])
        step, elapsed, done = ck["step"], ck["elapsed"], ck.get("done", False)
        if R0:
            print(f"stage {si} (N={n}) resumed step {step} elapsed {elapsed:.0f}s done {done}", flush=True)
    if args.world > 1:
        for p in params:
            dist.broadcast(p.data, 0)
    grid = ddim_timesteps(n)
    hop = 1000 // n

    def save(final=False):
        obj = {"student": student.state_dict(), "ema_unet": ema.state_dict(), "opt": opt.state_dict(),
               "step": step, "elapsed": elapsed, "done": final, "n": n, "args": vars(args)}
        torch.save(obj, path + ".tmp")
        os.replace(path + ".tmp", path)

    total = args.minutes * 60
    t_start, last_save, t_log, losses = time.time() - elapsed, time.time(), time.time(), []
    while not done:
        elapsed = time.time() - t_start
        stop = elapsed > total or (args.max_steps and step >= args.max_steps)
        if args.world > 1:
            s = torch.tensor([1.0 if stop else 0.0]); dist.all_reduce(s); stop = s.item() > 0
        if stop:
            break
        x0, ids, t, eps = batch(si, step, args.rank, args.bs, grid)
        a, s = ab(t)
        z = a * x0 + s * eps
        t_mid, t_to = t - hop // 2, t - hop
        with torch.no_grad():
            ctx = te(ids)
            if teacher_guided:
                B = len(t)
                ctx2 = torch.cat([te(empty).expand(B, -1, -1), ctx])

                def tv(zz, tt):
                    vu, vc = teacher(torch.cat([zz, zz]), torch.cat([tt, tt]), ctx2).chunk(2)
                    return vu + args.guidance * (vc - vu)
            else:
                def tv(zz, tt):
                    return teacher(zz, tt, ctx)
            z1 = ddim_to(tv(z, t), t, t_mid, z)
            z2 = ddim_to(tv(z1, t_mid), t_mid, t_to, z1)
            a2, s2 = ab(t_to)
            r = s2 / s
            x_target = (z2 - r * z) / (a2 - r * a)
        x_hat = a * z - s * student(z, t, ctx)
        w = (a ** 2 / s ** 2).clamp(min=1.0)
        loss = (w * (x_hat - x_target) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.world > 1:
            flat = torch.cat([p.grad.flatten() for p in params] + [torch.tensor([elapsed if R0 else 0.0])])
            dist.all_reduce(flat)
            elapsed = float(flat[-1]); o = 0
            for p in params:
                k_ = p.numel(); p.grad.copy_(flat[o:o + k_].view_as(p) / args.world); o += k_
        frac = min(1.0, elapsed / total) if not args.max_steps else min(1.0, step / args.max_steps)
        lr = args.lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * frac)))
        for gr in opt.param_groups:
            gr["lr"] = lr
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        dec = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), params):
                pe.mul_(dec).add_(p.detach(), alpha=1 - dec)
        losses.append(loss.item())
        if R0 and step % 25 == 0:
            now = time.time()
            print(f"stage {si} N={n} step {step} t {elapsed:.0f}s loss {np.mean(losses[-25:]):.4f} lr {lr:.2e} "
                  f"s/step {(now - t_log) / 25:.2f}", flush=True)
            t_log = now
        if R0 and time.time() - last_save > args.save_every:
            save(); last_save = time.time()
    if R0 and not done:
        save(final=True)
        print(f"stage {si} N={n} DONE step {step} elapsed {elapsed:.0f}s loss(last 100) {np.mean(losses[-100:]):.4f}",
              flush=True)
    if args.world > 1:
        dist.barrier()  # rank 0 has written the stage's final checkpoint
    final = torch.load(path)
    teacher_state = final["ema_unet"]
    stages.append({"student_steps": n, "train_steps": final["step"], "train_seconds": round(final["elapsed"])})
    teacher_guided = False

if R0:
    out = {"ema_te": tk["ema_te"], "ema_unet": teacher_state, "step": tk["step"], "elapsed": tk["elapsed"],
           "cfg": {**cfg, "turbo": {"steps": args.stages[-1], "guidance": 1.0, "teacher_guidance": args.guidance,
                                    "method": "progressive distillation, guided first stage", "stages": stages}},
           "scaling_factor": tk["scaling_factor"]}
    torch.save(out, args.out + ".tmp")
    os.replace(args.out + ".tmp", args.out)
    print("DONE ->", args.out, flush=True)
