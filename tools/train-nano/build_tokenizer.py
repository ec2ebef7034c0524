"""Learn BPE merges over the caption corpus and write the HF-style tokenizer folder.
    /usr/bin/python3 build_tokenizer.py --out /work/main/BananaLab.Tests/Inference/Data/clip-bpe-tokenizer
"""
import argparse, json, time
import data
import clip_bpe

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="/work/main/BananaLab.Tests/Inference/Data/clip-bpe-tokenizer")
ap.add_argument("--merges", type=int, default=4000)
args = ap.parse_args()
_, names, _ = data.load()
corpus = list(names)
for n in names:
    for c in list(data.BACKGROUNDS) + ["white"]:
        corpus.append(data.caption_for(n, c))
corpus += [f"{a} and {b}" for a, b in zip(names, names[1:])]
corpus += ["a photo of a", "an emoji of a", "picture", "image", "cute", "big", "small"]
t = time.time()
merges = clip_bpe.train_bpe(corpus, num_merges=args.merges, min_freq=1)
tok = clip_bpe.CLIPTokenizer.from_merges(merges)
tok.save(args.out)
multi = [n for n in names if any(len(tok.bpe(w)) > 1 for w in clip_bpe.pretokenize(n))]
print(f"merges {len(merges)} vocab {len(tok.encoder)} bos {tok.bos_id} eos {tok.eos_id} ({time.time()-t:.1f}s)")
print("names with a multi-token word:", len(multi), multi[:5])
