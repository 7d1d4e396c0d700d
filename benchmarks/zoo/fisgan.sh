#!/usr/bin/env bash
# FIS-GAN with the generator and trainer of dcgan_bce.sh, plus the paper's latent flow prior
# (Real NVP, refit every t = 10 steps for E = 5 epochs). The Jacobian norm is the Hutchinson estimate
# with 4 probes, not the paper's exact Frobenius norm: at width 64 the exact norm (d = 64 JVPs per
# example) costs ~1 s/step against ~0.3 s/step (measured on 60 steps; the GAN alone is ~0.25 s/step),
# i.e. 3.3 h instead of ~1 h for 12k steps. Add --norm frobenius for the paper's setting.
#   bash benchmarks/zoo/fisgan.sh [SEED] [extra train options, e.g. --resume]
source "$(dirname "$0")/common.sh"
seed=${1:-0}; shift || true
exec $GANFLOW train fisgan --data "$MNIST" --out "$ZOO_OUT/fisgan-s$seed" --seed "$seed" \
  --loss bce "${DCGAN_RECIPE[@]}" \
  --flow realnvp --refit-every 10 --refit-epochs 5 --norm hutchinson --probes 4 \
  "${DCGAN_SCHEDULE[@]}" "$@"
