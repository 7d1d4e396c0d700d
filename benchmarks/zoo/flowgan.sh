#!/usr/bin/env bash
# Flow-GAN with a Real NVP (MLP) generator, one schedule for the three objectives so that they
# compare NLL and samples at equal steps: mle (likelihood only), adv (WGAN-GP only) or hybrid
# (WGAN-GP + lambda * NLL, lambda 0.1 as in the slides' MNIST runs). The checkpoint with the best
# validation NLL is kept in OUT/best.
#   bash benchmarks/zoo/flowgan.sh OBJECTIVE [SEED] [extra train options, e.g. --resume]
source "$(dirname "$0")/common.sh"
objective=${1:?usage: flowgan.sh mle|adv|hybrid [SEED] [options]}; shift
seed=${1:-0}; shift || true
exec $GANFLOW train flowgan --data "$MNIST" --out "$ZOO_OUT/flowgan-$objective-s$seed" --seed "$seed" \
  --objective "$objective" --lambda 0.1 --arch realnvp-mlp \
  --steps 6000 --eval-every 1000 --sample-every 2000 --ckpt-every 500 --no-progress "$@"
