#!/usr/bin/env bash
# Flow-GAN hybrid (adversarial WGAN-GP + lambda * NLL) with a Real NVP (MLP) generator; the
# checkpoint with the best validation NLL is kept in OUT/best.
#   bash benchmarks/zoo/flowgan_hybrid.sh [SEED] [extra train options, e.g. --resume]
source "$(dirname "$0")/common.sh"
seed=${1:-0}; shift || true
exec $GANFLOW train flowgan --data "$MNIST" --out "$ZOO_OUT/flowgan-hybrid-s$seed" --seed "$seed" \
  --objective hybrid --lambda 0.1 --arch realnvp-mlp \
  --steps 6000 --eval-every 1000 --sample-every 2000 --ckpt-every 500 --no-progress "$@"
