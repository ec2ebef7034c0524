"""PyTorch eager baseline for banana-nano, timed like the C# bench (warm runs, median).

    /usr/bin/python3 tools/bench-inference/pytorch_baseline.py --steps 20 --guidance 5 --runs 5 --threads 2

Runs tools/train-nano/sample.py's NanoPipeline (DDIM, CFG, VAE decode at native size (banana-nano 2: 128x128), no upscaling) on the very weights the
product runs: read from the committed ONNX files (models/banana-nano) into the same PyTorch modules by onnx_weights.py.
Needs only Debian's python3-torch and python3-onnx; no training checkpoint.
"""
import argparse, os, statistics, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--models", default=os.path.join(HERE, "..", "..", "models", "banana-nano"),
                help="a banana-nano ONNX folder (default: the repository's models/banana-nano)")
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--guidance", type=float, default=5.0)
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--threads", type=int, default=os.cpu_count())
a = ap.parse_args()
sys.path.insert(0, HERE)
import torch
from onnx_weights import OnnxNanoPipeline

torch.set_num_threads(a.threads)
pipe = OnnxNanoPipeline(a.models)
pipe(["red apple"], [0], a.steps, a.guidance)  # warm-up
times = []
for i in range(a.runs):
    t = time.perf_counter()
    pipe(["red apple"], [i], a.steps, a.guidance)
    times.append((time.perf_counter() - t) * 1000)
print(f"median_ms={statistics.median(times):.2f} runs={a.runs} threads={a.threads} torch={torch.__version__}")
