# Sourced by the zoo recipes: where runs go, the MNIST file, one CPU thread unless told otherwise.
set -euo pipefail
ZOO_OUT=${ZOO_OUT:-runs/zoo}
MNIST=${MNIST:-../shared/data/mnist.npz}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
GANFLOW=${GANFLOW:-ganflow}
PYTHON=${PYTHON:-python}
