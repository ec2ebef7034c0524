"""Encode the banana-nano 2 training images to latents with the trained AE8.

* singles: every emoji on white + the 10 colours -> [11, N, 4, 16, 16] (bg order data2.BG_WORDS)
* compositions: --n_comp (first, second, relation, background) tuples drawn with
  np.random.default_rng([seed, 7]): an ordered pair of different emoji whose unordered pair is
  not a held-out composition (captions2.banned_pairs), a relation (uniform), white (p 0.5) or
  one of the 10 colours. Rendered by data2.compose -> [K, 4, 16, 16], with comp_meta [K, 4] =
  (first, second, relation index, background index).
* scaling_factor = 1 / std of all latents (singles and compositions).

Two single-thread processes split the work (--part 0/1 --parts 2), then --merge:
    for p in 0 1; do OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 nice -n 19 /usr/bin/python3 encode_latents2.py --part $p --parts 2 & done; wait
    /usr/bin/python3 encode_latents2.py --merge            -> /work/nano2-run/latents2.pt
"""
import argparse, time
import numpy as np
import torch

import data2
import captions2
from vae2 import load_ae

ap = argparse.ArgumentParser()
ap.add_argument("--vae", default="/work/nano2-run/vae2.pt")
ap.add_argument("--data", default="/work/nano2-run/emoji128.npz")
ap.add_argument("--out", default="/work/nano2-run/latents2.pt")
ap.add_argument("--n_comp", type=int, default=48000)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--part", type=int, default=0)
ap.add_argument("--parts", type=int, default=1)
ap.add_argument("--merge", action="store_true")
ap.add_argument("--first", type=int, default=0, help="tests: only the first n emoji")
args = ap.parse_args()
torch.set_num_threads(1)


def composition_list(cps, n, seed):
    N = len(cps)
    ban = captions2.banned_pairs(cps)
    rng = np.random.default_rng([seed, 7])
    out = []
    while len(out) < n:
        i, j = (int(x) for x in rng.choice(N, 2, replace=False))
        rel = int(rng.integers(3))
        bg = 0 if rng.random() < 0.5 else 1 + int(rng.integers(10))
        if frozenset((i, j)) in ban:
            continue
        out.append((i, j, rel, bg))
    return np.array(out, np.int64)


if args.merge:
    parts = [torch.load(f"{args.out}.part{p}of{args.parts}") for p in range(args.parts)]
    P0 = parts[0]
    singles = torch.empty(P0["singles_shape"])
    comps = torch.empty(len(P0["comp_meta"]), 4, 16, 16)
    for P in parts:
        singles[:, P["s_idx"]] = P["singles"]
        comps[P["c_idx"]] = P["comps"]
    allv = torch.cat([singles.flatten(), comps.flatten()])
    std = allv.std().item()
    print("latent mean %.4f std %.4f -> scaling_factor %.5f" % (allv.mean().item(), std, 1 / std))
    torch.save({"singles": singles, "comps": comps, "comp_meta": P0["comp_meta"], "scaling_factor": 1 / std,
                "bg_words": data2.BG_WORDS, "relations": list(data2.RELATIONS), "names": P0["names"],
                "cps": P0["cps"], "vae": args.vae, "vae_step": P0["vae_step"], "seed": args.seed}, args.out)
    print("->", args.out, tuple(singles.shape), tuple(comps.shape))
    raise SystemExit

rgba, names, cps = data2.load(args.data)
if args.first:
    rgba, names, cps = rgba[:args.first], names[:args.first], cps[:args.first]
ae = load_ae(args.vae)
vae_step = torch.load(args.vae, map_location="cpu")["step"]
meta = composition_list(cps, args.n_comp, args.seed)
N = len(names)
s_idx = np.arange(args.part, N, args.parts)
c_idx = np.arange(args.part, len(meta), args.parts)
t0 = time.time()
enc = lambda ims: ae.encoder(torch.from_numpy(np.stack(ims)).permute(0, 3, 1, 2).contiguous() * 2 - 1)
with torch.no_grad():
    singles = torch.empty(len(data2.BG_WORDS), len(s_idx), 4, 16, 16)
    for b, w in enumerate(data2.BG_WORDS):
        for k in range(0, len(s_idx), 64):
            singles[b, k:k + 64] = enc([data2.single(rgba[i], w) for i in s_idx[k:k + 64]])
    print(f"part {args.part}: singles done {time.time() - t0:.0f}s", flush=True)
    comps = torch.empty(len(c_idx), 4, 16, 16)
    for k in range(0, len(c_idx), 64):
        rows = meta[c_idx[k:k + 64]]
        comps[k:k + 64] = enc([data2.compose(rgba[i], rgba[j], data2.RELATIONS[r], data2.BG_WORDS[b]) for i, j, r, b in rows])
        if k % 3200 == 0:
            print(f"part {args.part}: comps {k}/{len(c_idx)} {time.time() - t0:.0f}s", flush=True)
torch.save({"singles": singles, "comps": comps, "s_idx": torch.from_numpy(s_idx), "c_idx": torch.from_numpy(c_idx),
            "singles_shape": (len(data2.BG_WORDS), N, 4, 16, 16), "comp_meta": torch.from_numpy(meta),
            "names": names, "cps": cps, "vae_step": vae_step}, f"{args.out}.part{args.part}of{args.parts}")
print(f"part {args.part} done {time.time() - t0:.0f}s", flush=True)
