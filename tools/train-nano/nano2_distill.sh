#!/bin/sh
# Start banana-nano-turbo's progressive distillation (distill2.py) in the background: two single-thread processes
# (gloo data-parallel, batch 2 x 32), nice 19, logs appended to /work/nano2-run/distill2_rank{0,1}.log.
#   MINUTES=22 sh nano2_distill.sh            # fresh run from /work/nano2-run/diff2_ckpt.pt, MINUTES per stage
#   MINUTES=22 sh nano2_distill.sh --resume   # continue the stage a stop interrupted
# Stop: kill the two PIDs in /work/nano2-run/distill2.pids (both).
cd "$(dirname "$0")" || exit 1
MINUTES=${MINUTES:-22}
: > /work/nano2-run/distill2.pids
for r in 0 1; do
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 nohup nice -n 19 /usr/bin/python3 distill2.py \
    --minutes "$MINUTES" --world 2 --rank $r "$@" >> /work/nano2-run/distill2_rank$r.log 2>&1 &
  echo $! >> /work/nano2-run/distill2.pids
done
cat /work/nano2-run/distill2.pids
