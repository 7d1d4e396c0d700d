#!/usr/bin/env bash
# Strong MNIST base: DCGAN (base width 64), non-saturating BCE, EMA of G (decay 0.999), 12k steps.
# One CPU thread: ~0.25 s/step on this project's 2-core machine (~55 min with evaluation).
# The same command with --resume continues a run that a session stop cut short.
#   bash benchmarks/zoo/dcgan_bce.sh [SEED] [extra train options, e.g. --resume]
source "$(dirname "$0")/common.sh"
seed=${1:-0}; shift || true
exec $GANFLOW train gan --data "$MNIST" --out "$ZOO_OUT/dcgan-bce-s$seed" --seed "$seed" \
  --arch dcgan --width 64 --loss bce --ema 0.999 --lr-g 2e-4 --lr-d 2e-4 \
  --steps 12000 --eval-every 1000 --sample-every 2000 --ckpt-every 500 --log-every 100 --no-progress "$@"
