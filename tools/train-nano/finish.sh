#!/bin/sh
# Export the final EMA checkpoint, verify it, and commit models/ (run after train_diffusion.py prints DONE).
#   sh /work/main/tools/train-nano/finish.sh
set -e
cd /work/main/tools/train-nano
export OPENBLAS_NUM_THREADS=1
/usr/bin/python3 export_onnx.py --ckpt /work/nano-run/diff_ckpt.pt --vae /work/nano-run/vae.pt --out /work/main/models/banana-nano 2>&1 | grep -v -i warn | grep -v _C._jit
/usr/bin/python3 onnx_check.py 2>&1 | grep -v -i warn | grep -v "T = lambda"
du -sh /work/main/models; du -ab /work/main/models | sort -k2
cd /work/main
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e .git/index.lock ] && sleep 3 || break; done
git add tools/train-nano models && git commit -m "banana-nano: exported EMA weights (ONNX, Optimum SD layout) + upscalers + README numbers" -- tools/train-nano models
