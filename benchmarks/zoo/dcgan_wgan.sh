#!/usr/bin/env bash
# Strong MNIST base: DCGAN (width 64), WGAN-GP (5 critic steps, Adam 1e-4, betas 0.5/0.9 as in
# Gulrajani et al.), EMA of G, then the logistic corrector C that makes D + C a density-ratio
# estimate (DGflow and the rejection methods need one).
#   bash benchmarks/zoo/dcgan_wgan.sh [SEED] [extra train options, e.g. --resume]
source "$(dirname "$0")/common.sh"
seed=${1:-0}; shift || true
run="$ZOO_OUT/dcgan-wgan-s$seed"
$GANFLOW train gan --data "$MNIST" --out "$run" --seed "$seed" \
  --arch dcgan --width 64 --loss wgan-gp --ema 0.999 --lr-g 1e-4 --lr-d 1e-4 --beta1 0.5 --beta2 0.9 \
  --steps 6000 --eval-every 1000 --sample-every 2000 --ckpt-every 250 --log-every 100 --no-progress "$@"
base="$run"; [ -f "$run/best/config.json" ] && base="$run/best"  # the checkpoint that evaluate.py exports
[ -f "$run-corr/config.json" ] && resume=--resume || resume=
exec $GANFLOW train corrector --base "$base" --data "$MNIST" --out "$run-corr" --steps 2000 --seed "$seed" $resume
