"""Encode the dataset (each emoji on white + every background colour) to latents,
measure the scaling factor (1/std), tokenize all captions.
    /usr/bin/python3 encode_latents.py   -> /work/nano-run/latents.pt
"""
import argparse
import numpy as np
import torch
import data
from vae import AE
from clip_bpe import CLIPTokenizer

ap = argparse.ArgumentParser()
ap.add_argument("--vae", default="/work/nano-run/vae.pt")
ap.add_argument("--tokenizer", default="/work/main/BananaLab.Tests/Inference/Data/clip-bpe-tokenizer")
ap.add_argument("--out", default="/work/nano-run/latents.pt")
args = ap.parse_args()
torch.set_num_threads(2)
rgba, names, cps = data.load()
ae = AE(); ae.load_state_dict(torch.load(args.vae)["model"]); ae.eval()
tok = CLIPTokenizer.load(args.tokenizer)
bgs = [("white", (255, 255, 255))] + list(data.BACKGROUNDS.items())
lat = torch.empty(len(bgs), len(names), 4, 16, 16)
ids = torch.empty(len(bgs), len(names), 77, dtype=torch.long)
with torch.no_grad():
    for b, (word, col) in enumerate(bgs):
        x = torch.from_numpy(data.composite(rgba, col)).permute(0, 3, 1, 2) * 2 - 1
        for i in range(0, len(names), 128):
            lat[b, i:i + 128] = ae.encoder(x[i:i + 128])
        for i, n in enumerate(names):
            ids[b, i] = torch.tensor(tok(data.caption_for(n, word)))
        print(word, flush=True)
std = lat.std().item()
print("latent mean %.4f std %.4f -> scaling_factor %.5f" % (lat.mean().item(), std, 1 / std))
torch.save({"latents": lat, "ids": ids, "bg_words": [w for w, _ in bgs], "names": names,
            "scaling_factor": 1 / std, "empty_ids": torch.tensor(tok(""))}, args.out)
