#!/usr/bin/env bash
# LatentRS and DGflow on the DCGAN-BCE base of one training seed (run dcgan_bce.sh SEED first):
# the weight network with the trainer's defaults (2000 weight steps, 5 critic steps each) over
# dcgan-bce-sSEED/best, the two bundles, then post_hoc.py (10k samples, sampling seeds 0 1 2, paired
# with plain; DGflow's eta chosen on the training split) into benchmarks/results/zoo_post_hoc_sSEED.json.
#   bash benchmarks/zoo/post_hoc.sh [SEED]   (re-run it after a stop: finished steps are skipped)
source "$(dirname "$0")/common.sh"
seed=${1:-0}
run="$ZOO_OUT/dcgan-bce-s$seed"
bundles="$ZOO_OUT/bundles"
[ -f "$run/best/config.json" ] || { echo "error: $run/best not found: run bash benchmarks/zoo/dcgan_bce.sh $seed first" >&2; exit 2; }
[ -f "$run-rw/state.safetensors" ] && resume=--resume || resume=
$GANFLOW train reweight --base "$run/best" --data "$MNIST" --out "$run-rw" --seed "$seed" --no-progress $resume
[ -f "$bundles/dcgan-bce-s$seed-best/config.json" ] || $GANFLOW export "$run/best" --out "$bundles/dcgan-bce-s$seed-best"
[ -f "$bundles/dcgan-bce-s$seed-rw/config.json" ] || $GANFLOW export "$run-rw" --out "$bundles/dcgan-bce-s$seed-rw"
exec $PYTHON "$(dirname "$0")/post_hoc.py" --base "$bundles/dcgan-bce-s$seed-best" \
  --reweighted "$bundles/dcgan-bce-s$seed-rw" --data "$MNIST" --out "benchmarks/results/zoo_post_hoc_s$seed.json" \
  --threads "$OMP_NUM_THREADS"
