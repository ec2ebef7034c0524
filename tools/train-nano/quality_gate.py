"""Retrieval quality gate (torch eager sampler).

For 100 training captions (fixed random subset of the plain, white-background captions,
seed 1234) generate one image each; featurize as a 16x16 RGB thumbnail (4x4 area mean
of the 64x64 image, 768-d, L2 distance). Rank the caption's own training image among ALL
training images (every emoji on white + on the 10 background colours = 11 x N images).
Reports top-1 / top-10. Also: mean abs pixel difference between seed 0 and seed 1 of the
same prompt (diversity; 0 = identical).

    /usr/bin/python3 quality_gate.py --steps 20 --guidance 5

banana-nano 2 checkpoints (cfg version 2, 128x128) are scored by gate2(), the same rule on the
same 768-d feature (16x16 RGB thumbnail, an 8x8 area mean of the 128x128 image), three sets of
100 prompts each:
  (a) training captions: 100 Unicode names (seed 1234), own image = the emoji on white, ranked
      among every single on the 11 backgrounds (15,312 images);
  (b) held-out words: heldout/words.tsv, prompts built from words removed from training; hit =
      the best-ranked of the row's target emoji (on white) among the same 15,312 images;
  (c) held-out compositions: heldout/compositions.tsv, pairs never composed in training; own
      image = data2.compose(first, second, relation, background), ranked among the 15,312
      singles plus, for all 100 rows, the true render and its 5 confusions (same two emoji with
      the other relations and in swapped order): 15,912 images.
Plus the seed difference: mean |pixel| difference between seed 0 and seed 1 of 16 prompts.

    /usr/bin/python3 quality_gate.py --ckpt /work/nano2-run/diff2_ckpt.pt --steps 20 --guidance 3
    /usr/bin/python3 quality_gate.py --ckpt /work/nano2-run/turbo_ckpt.pt --steps 4 --guidance 1
    /usr/bin/python3 quality_gate.py --models ../../models/banana-nano --steps 20 --guidance 3   # the shipped files
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
    ap.add_argument("--heldout", default="heldout", help="banana-nano 2: the frozen held-out folder")
    ap.add_argument("--json", default=None, help="banana-nano 2: also write the results (and misses) here")
    ap.add_argument("--models", default=None, help="banana-nano 2: score an exported model folder (the shipped weights, "
                                                   "read by tools/bench-inference/onnx_weights.py) instead of --ckpt")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.models or torch.load(a.ckpt, map_location="cpu")["cfg"].get("version", 1) == 2:
        return gate2(a)
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


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def thumbs128(x):  # [B,3,128,128] in [0,1] -> [B,768]
    return F.avg_pool2d(x, 8).flatten(1)


def ranks(d, own):
    """d [P,M] distances; own [P] or a list of index lists -> rank of the best own image."""
    best = torch.stack([d[i, o].min() for i, o in enumerate(own)])
    return (d < best[:, None]).sum(1)


def gate2(a):
    import data2
    rgba, names, cps = data2.load()
    index = {cp: i for i, cp in enumerate(cps)}
    cp_of = lambda s: index[int(s[2:], 16)]
    singles = torch.cat([torch.from_numpy(data2.single(rgba, bg)).permute(0, 3, 1, 2) for bg in data2.BG_WORDS])
    bank = thumbs128(singles)  # own single e on white = index e
    if a.models:
        import os, sys
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench-inference"))
        from onnx_weights import OnnxNanoPipeline
        pipe = OnnxNanoPipeline(a.models)
    else:
        pipe = NanoPipeline(a.ckpt, ema=not a.no_ema)
    words = read_tsv(f"{a.heldout}/words.tsv")
    comps = read_tsv(f"{a.heldout}/compositions.tsv")
    # (c) bank: the true render + its 5 confusions for every row
    renders, truth = [], []
    for c in comps:
        i, j = cp_of(c["first"]), cp_of(c["second"])
        for r in data2.RELATIONS:
            for x, y in ((i, j), (j, i)):
                if (x, y, r) == (i, j, c["relation"]):
                    truth.append(len(bank) + len(renders))
                renders.append(data2.compose(rgba[x], rgba[y], r, c["background"]))
    cbank = torch.cat([bank, thumbs128(torch.from_numpy(np.stack(renders)).permute(0, 3, 1, 2))])
    idx = np.random.default_rng(1234).choice(len(names), a.n, replace=False)
    sets = {
        "a_training_captions": ([names[i] for i in idx], [[int(i)] for i in idx], bank),
        "b_heldout_words": ([w["prompt"] for w in words], [[cp_of(t) for t in w["targets"].split()] for w in words], bank),
        "c_heldout_compositions": ([c["prompt"] for c in comps], [[t] for t in truth], cbank),
    }
    results = {}
    for g in a.guidance:
        t0 = time.time()
        res = {}
        for key, (prompts, own, feats) in sets.items():
            imgs = torch.cat([pipe(prompts[i:i + 25], [a.seed] * len(prompts[i:i + 25]), a.steps, g)
                              for i in range(0, len(prompts), 25)])
            r = ranks(torch.cdist(thumbs128(imgs), feats), own)
            res[key] = dict(n=len(prompts), top1=(r < 1).float().mean().item(), top10=(r < 10).float().mean().item(),
                            misses=[p for p, k in zip(prompts, r.tolist()) if k >= 10])
            if key == "a_training_captions":
                imgs2 = pipe(prompts[:16], [a.seed + 1] * 16, a.steps, g)
                res["seed_diff"] = (imgs2 - imgs[:16]).abs().mean().item()
            print(f"step {pipe.step_count} steps {a.steps} guidance {g} {key}: top1 {res[key]['top1']:.2f} "
                  f"top10 {res[key]['top10']:.2f}", flush=True)
        res["secs"] = time.time() - t0
        print(f"seed-diff {res['seed_diff']:.3f} ({res['secs']:.0f}s)", flush=True)
        results[g] = res
    out = {"ckpt": a.models or a.ckpt, "train_step": pipe.step_count, "steps": a.steps, "results": results}
    if a.json:
        json.dump(out, open(a.json, "w"), indent=1)
    print(json.dumps({g: {k: (v if not isinstance(v, dict) else {m: v[m] for m in ("top1", "top10")})
                          for k, v in r.items()} for g, r in results.items()}))


if __name__ == "__main__":
    main()
