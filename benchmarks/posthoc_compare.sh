#!/usr/bin/env bash
# Every post-hoc GAN sampler side by side (`ganflow compare`): the 25-Gaussians demo GAN and the
# MNIST zoo base (benchmarks/zoo/dcgan_bce.sh), same sampling seeds 0, 1, 2 for every method.
# One CPU thread: ~3 min for g25 (train 1 min, compares 2 min), ~25 min for MNIST (compare).
# Results: benchmarks/results/compare_{g25,mnist}.{md,json} and compare_*_*.png (written by hand
# around the generated tables: see the .md files).
#   bash benchmarks/posthoc_compare.sh [g25|mnist|all]
set -euo pipefail
WORK=${WORK:-runs}
MNIST=${MNIST:-../shared/data/mnist.npz}
ZOO_RUN=${ZOO_RUN:-/work/zoo/dcgan-bce-s0/best}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
GANFLOW=${GANFLOW:-ganflow}
CPU=(--device cpu --threads 1)
RESULTS=benchmarks/results

publish() {  # report folder, name: the json and the figures into benchmarks/results
  cp "$1/report.json" "$RESULTS/compare_$2.json"
  for png in "$1"/*.png; do cp "$png" "$RESULTS/compare_$2_$(basename "$png")"; done
}

g25() {
  [ -f "$WORK/g25/config.json" ] || $GANFLOW train gan --data gaussians25 --steps 6000 --batch-size 512 \
    --lr-g 5e-4 --lr-d 5e-4 --width 128 --latent-dim 2 --out "$WORK/g25" --no-progress
  [ -d "$WORK/g25-bundle" ] || $GANFLOW export "$WORK/g25" --out "$WORK/g25-bundle"
  $GANFLOW compare "$WORK/g25-bundle" -n 5000 --seeds 3 "${CPU[@]}" --out "$WORK/compare_g25" --overwrite
  $GANFLOW compare "$WORK/g25-bundle" -n 5000 --seeds 3 --methods plain,drs --set drs_gamma=0 "${CPU[@]}" \
    --out "$WORK/compare_g25_drs_gamma0" --overwrite
  publish "$WORK/compare_g25" g25
  cp "$WORK/compare_g25_drs_gamma0/report.json" "$RESULTS/compare_g25_drs_gamma0.json"
}

mnist() {  # MH-GAN K = 40 and DDLS 25 steps: the defaults (640, 100) cost ~25 and ~10 min per seed here
  [ -d "$WORK/zoo-bundle" ] || $GANFLOW export "$ZOO_RUN" --out "$WORK/zoo-bundle"
  $GANFLOW compare "$WORK/zoo-bundle" --data "$MNIST" -n 2000 --seeds 3 --set mh_k=40 --set mh_data="$MNIST" \
    --set ddls_steps=25 "${CPU[@]}" --out "$WORK/compare_mnist" --overwrite
  publish "$WORK/compare_mnist" mnist
}

case "${1:-all}" in
  g25) g25 ;;
  mnist) mnist ;;
  all) g25; mnist ;;
  *) echo "usage: $0 [g25|mnist|all]" >&2; exit 2 ;;
esac
