# Sourced by the zoo recipes: where runs go, the MNIST file, one CPU thread unless told otherwise.
set -euo pipefail
ZOO_OUT=${ZOO_OUT:-runs/zoo}
MNIST=${MNIST:-../shared/data/mnist.npz}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
GANFLOW=${GANFLOW:-ganflow}
PYTHON=${PYTHON:-python}
# The strong DCGAN recipe, shared by dcgan.sh (any loss) and fisgan.sh (the same G and schedule plus
# the flow prior): networks and optimiser, then the 12k-step schedule with its evaluations.
DCGAN_RECIPE=(--arch dcgan --width 64 --ema 0.999 --lr-g 2e-4 --lr-d 2e-4)
DCGAN_SCHEDULE=(--steps 12000 --eval-every 1000 --sample-every 2000 --ckpt-every 500 --log-every 100 --no-progress)
