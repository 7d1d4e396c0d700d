#!/usr/bin/env bash
# The zoo's Flow-GAN hybrid (WGAN-GP + 0.1 * NLL, Real NVP MLP): flowgan.sh with objective hybrid.
#   bash benchmarks/zoo/flowgan_hybrid.sh [SEED] [extra train options, e.g. --resume]
exec bash "$(dirname "$0")/flowgan.sh" hybrid "$@"
