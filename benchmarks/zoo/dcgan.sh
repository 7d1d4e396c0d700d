#!/usr/bin/env bash
# The zoo's DCGAN recipe with any GAN loss: base width 64, EMA of G (decay 0.999), Adam 2e-4 for G
# and D, 12k steps, FID against the training split every 1000 steps picking OUT/best. With `bce` it
# is the strong base (dcgan_bce.sh); with an f-GAN loss (f:kl, f:rkl, f:pearson, f:hellinger, f:js)
# it is that divergence on the same base, so that the f-GAN table can be measured there. Extra
# options go last and win, e.g. `--lr-g 1e-4 --lr-d 1e-4` or `--resume`.
#   bash benchmarks/zoo/dcgan.sh LOSS [SEED] [extra train options]
source "$(dirname "$0")/common.sh"
loss=${1:?usage: dcgan.sh LOSS [SEED] [options], e.g. dcgan.sh f:hellinger 0}; shift
seed=${1:-0}; shift || true
exec $GANFLOW train gan --data "$MNIST" --out "$ZOO_OUT/dcgan-${loss//:/-}-s$seed" --seed "$seed" \
  --loss "$loss" "${DCGAN_RECIPE[@]}" "${DCGAN_SCHEDULE[@]}" "$@"
