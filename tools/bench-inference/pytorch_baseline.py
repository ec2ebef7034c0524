"""PyTorch eager baseline for banana-nano, timed like the C# bench (warm runs, median).

    /usr/bin/python3 tools/bench-inference/pytorch_baseline.py --ckpt /work/nano-run/diff_ckpt.pt \
        --steps 20 --guidance 5 --runs 5 --threads 2

Uses tools/train-nano/sample.py's NanoPipeline (DDIM, CFG, VAE decode at 64x64, no upscaling).
"""
import argparse, os, statistics, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--train-nano", default="/work/main/tools/train-nano")
ap.add_argument("--ckpt", default="/work/nano-run/diff_ckpt.pt")
ap.add_argument("--vae", default="/work/nano-run/vae.pt")
ap.add_argument("--tokenizer", default="/work/main/models/banana-nano/tokenizer")
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--guidance", type=float, default=5.0)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--threads", type=int, default=os.cpu_count())
a = ap.parse_args()
sys.path.insert(0, a.train_nano)
import torch
from sample import NanoPipeline

torch.set_num_threads(a.threads)
pipe = NanoPipeline(a.ckpt, a.vae, a.tokenizer)
pipe(["red apple"], [0], a.steps, a.guidance)  # warm-up
times = []
for i in range(a.runs):
    t = time.perf_counter()
    pipe(["red apple"], [i], a.steps, a.guidance)
    times.append((time.perf_counter() - t) * 1000)
print(f"median_ms={statistics.median(times):.2f} runs={a.runs} threads={a.threads} torch={torch.__version__}")
