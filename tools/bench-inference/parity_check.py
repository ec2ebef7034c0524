"""Checks the C# pipeline (ONNX Runtime) against tools/train-nano/sample.py (PyTorch eager) with identical noise and
the same weights, read from the committed ONNX files into the PyTorch modules (onnx_weights.py).

The C# side draws noise from xoshiro256** + Box-Muller (NoiseRandom.cs); this re-implements that
generator, runs sample.py's DDIM + CFG loop from the same noise and compares the 64x64 result with
an image the bench saved (`--save DIR` writes DIR/64x64-0.png: prompt "red apple", seed 1).

    dotnet run -c Release --project tools/bench-inference -- --runs 1 --save /tmp/bench-save
    /usr/bin/python3 tools/bench-inference/parity_check.py --image /tmp/bench-save/64x64-0.png --seed 1 --steps 20 --guidance 5
"""
import argparse, math, os, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

M = (1 << 64) - 1


class NoiseRandom:
    def __init__(self, seed):
        self.state = seed & M
        self.s = [self._splitmix() for _ in range(4)]
        self.spare = None

    def _splitmix(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & M
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        return z ^ (z >> 31)

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M

    def next(self):
        s0, s1, s2, s3 = self.s
        result = (self._rotl((s1 * 5) & M, 7) * 9) & M
        t = (s1 << 17) & M
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t
        s3 = self._rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def unit(self):
        return ((self.next() >> 11) + 1) * (1.0 / (1 << 53))

    def gaussian(self):
        if self.spare is not None:
            v, self.spare = self.spare, None
            return v
        r = math.sqrt(-2.0 * math.log(self.unit()))
        a = 2.0 * math.pi * self.unit()
        self.spare = r * math.sin(a)
        return r * math.cos(a)


ap = argparse.ArgumentParser()
ap.add_argument("--models", default=os.path.join(HERE, "..", "..", "models", "banana-nano"),
                help="a banana-nano ONNX folder (default: the repository's models/banana-nano)")
ap.add_argument("--image", required=True)
ap.add_argument("--prompt", default="red apple")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--steps", type=int, default=20)
ap.add_argument("--guidance", type=float, default=5.0)
a = ap.parse_args()
sys.path.insert(0, HERE)
import torch
from PIL import Image
from onnx_weights import OnnxNanoPipeline
from sample import ddim_timesteps, ddim_step

pipe = OnnxNanoPipeline(a.models)
rng = NoiseRandom(a.seed)
x = torch.tensor([rng.gaussian() for _ in range(4 * 16 * 16)], dtype=torch.float32).reshape(1, 4, 16, 16)
with torch.no_grad():
    ctx = pipe.te(torch.tensor([pipe.tok(""), pipe.tok(a.prompt)]))
    for t in ddim_timesteps(a.steps):
        v = pipe.unet(torch.cat([x, x]), torch.full((2,), int(t), dtype=torch.long), ctx)
        v = v[:1] + a.guidance * (v[1:] - v[:1])
        x = ddim_step(v, int(t), x, a.steps)
    img = ((pipe.ae.decoder(x / pipe.sf) + 1) / 2).clamp(0, 1)
ref = np.round(img[0].permute(1, 2, 0).numpy() * 255)
ours = np.asarray(Image.open(a.image).convert("RGB"), dtype=np.float64)
diff = np.abs(ref - ours)
print(f"mean |C# - PyTorch| = {diff.mean():.3f} of 255, max = {diff.max():.0f}")
sys.exit(0 if diff.mean() < 1.0 else 1)
