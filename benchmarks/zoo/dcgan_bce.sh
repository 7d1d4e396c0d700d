#!/usr/bin/env bash
# Strong MNIST base: dcgan.sh with the non-saturating BCE loss (DCGAN width 64, EMA 0.999, 12k steps).
# One CPU thread: ~0.25 s/step on this project's 2-core machine (~55 min with evaluation).
# The same command with --resume continues a run that a session stop cut short.
#   bash benchmarks/zoo/dcgan_bce.sh [SEED] [extra train options, e.g. --resume]
exec bash "$(dirname "$0")/dcgan.sh" bce "$@"
