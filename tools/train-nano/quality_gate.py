"""Retrieval quality gate (torch eager sampler).

For 100 training captions (fixed random subset of the plain, white-background captions,
seed 1234) generate one image each; featurize as a 16x16 RGB thumbnail (4x4 area mean
of the 64x64 image, 768-d, L2 distance). Rank the caption's own training image among ALL
training images (every emoji on white + on the 10 background colours = 11 x N images).
Reports top-1 / top-10. Also: mean abs pixel difference between seed 0 and seed 1 of the
same prompt (diversity; 0 = identical).

    /usr/bin/python3 quality_gate.py --steps 20 --guidance 5
"""
import argparse, json, time
import numpy as np
import torch
import torch.nn.functional as F
import data
from sample import NanoPipeline


def thumbs(x):  # [B,3,64,64] in [0,1] -> [B,768]
    return F.avg_pool2d(x, 4).flatten(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="/work/nano-run/diff_ckpt.pt")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, nargs="+", default=[5.0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no_ema", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rgba, names, _ = data.load()
    bank = [torch.from_numpy(data.composite(rgba, (255, 255, 255))).permute(0, 3, 1, 2)]
    for col in data.BACKGROUNDS.values():
        bank.append(torch.from_numpy(data.composite(rgba, col)).permute(0, 3, 1, 2))
    feats = thumbs(torch.cat(bank))  # own image of caption i (white) is index i
    idx = np.random.default_rng(1234).choice(len(names), a.n, replace=False)
    prompts = [names[i] for i in idx]
    pipe = NanoPipeline(a.ckpt, ema=not a.no_ema)
    results = {}
    for g in a.guidance:
        t0 = time.time()
        imgs = torch.cat([pipe(prompts[i:i + 25], [a.seed] * len(prompts[i:i + 25]), a.steps, g) for i in range(0, a.n, 25)])
        d = torch.cdist(thumbs(imgs), feats)
        own = d[torch.arange(a.n), torch.from_numpy(idx)]
        rank = (d < own[:, None]).sum(1)
        top1 = (rank < 1).float().mean().item(); top10 = (rank < 10).float().mean().item()
        imgs2 = pipe(prompts[:16], [a.seed + 1] * 16, a.steps, g)
        div = (imgs2 - imgs[:16]).abs().mean().item()
        results[g] = dict(top1=top1, top10=top10, seed_diff=div, secs=time.time() - t0)
        print(f"step {pipe.step_count} steps {a.steps} guidance {g}: top1 {top1:.2f} top10 {top10:.2f} "
              f"seed-diff {div:.3f} ({time.time()-t0:.0f}s)", flush=True)
    print(json.dumps({"train_step": pipe.step_count, "steps": a.steps, "results": results}))


if __name__ == "__main__":
    main()
