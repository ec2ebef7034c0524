#!/bin/sh
# Start banana-nano 2 diffusion training in the background: two single-thread processes
# (gloo data-parallel, batch 2 x 32), nice 19, logs appended to /work/nano2-run/diff2_rank{0,1}.log.
#   sh nano2_diffusion.sh            # fresh run (overwrites /work/nano2-run/diff2_ckpt.pt on the first save)
#   sh nano2_diffusion.sh --resume   # continue from the last checkpoint (after a stop or a reboot)
# Stop: kill the two PIDs in /work/nano2-run/diff2.pids (both; one rank alone blocks forever).
cd "$(dirname "$0")" || exit 1
MINUTES=${MINUTES:-720}
: > /work/nano2-run/diff2.pids
for r in 0 1; do
  OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 nohup nice -n 19 /usr/bin/python3 train_diffusion2.py \
    --minutes "$MINUTES" --world 2 --rank $r "$@" >> /work/nano2-run/diff2_rank$r.log 2>&1 &
  echo $! >> /work/nano2-run/diff2.pids
done
cat /work/nano2-run/diff2.pids
