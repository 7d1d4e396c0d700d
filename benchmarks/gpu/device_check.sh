#!/usr/bin/env bash
# Run ON THE GPU MACHINE as the last of the six calls of benchmarks/gpu/prepare.sh (the wheel's parts
# are in /tmp/w). Installs onnxruntime-gpu and ganflow, then, all output under $OUT:
#   1. the cuda-marked tests (CUDA vs CPU, --cuda-graph, fp16, no CPU fallback)   -> $OUT/pytest_cuda.log
#   2. a bench bundle like benchmarks/results/sampling_cpu.md's, exported with --fp16
#   3. benchmarks/sampling.py, plain and dgflow first (the issue's targets), batches 1..16384
#                                              -> $OUT/sampling_h200.json, $OUT/targets_h200.md
# Each step has its own time limit so that the whole stays inside one 10-minute call.
set -uo pipefail
cd "$(dirname "$0")/../.."
export PYTHONUNBUFFERED=1 OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
cp /tmp/w/part.0* .gpu/p6/ 2>/dev/null || true
cat .gpu/p6/part.0? >"/tmp/$(cat .gpu/p6/wheel-name)"
PY=${PY:-python}
$PY -m pip install -q --no-deps --target /tmp/site "/tmp/$(cat .gpu/p6/wheel-name)" .gpu/p6/wheels/*.whl
export PYTHONPATH=/tmp/site
$PY -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | tail -2
mkdir -p ../shared/data && cp .gpu/p6/mnist.npz ../shared/data/
# torch first: it loads the CUDA libraries onnxruntime-gpu needs
$PY -c "import torch, onnxruntime as o; print(torch.__version__, torch.cuda.get_device_name(), o.__version__, o.get_available_providers())" | tee "$OUT/versions.txt"

# only the files with cuda-marked tests: collecting the others needs test-only packages (hypothesis)
timeout 180 $PY -m pytest -q -p no:cacheprovider -m cuda tests/sampler/test_cuda.py \
  tests/sampler/test_device_resident.py tests/sampler/test_dgflow.py 2>&1 | tee "$OUT/pytest_cuda.log" | tail -15

B=/tmp/bench
G="$PY -m ganflow.sampler.cli"
timeout 150 bash -c "
  $G train gan --data ../shared/data/mnist.npz --out $B/gan --steps 300 --eval-every 100000 \
    --sample-every 100000 --no-progress --device cuda &&
  $G train reweight --base $B/gan --data ../shared/data/mnist.npz --out $B/rw --steps 100 \
    --normalize-emd --eval-every 100000 --no-progress --device cuda &&
  $G export $B/rw --out $B/bundle --fp16" 2>&1 | tail -8

# reduce-overhead (CUDA graphs) at every batch: max-autotune tunes each batch shape for minutes,
# more than one call leaves; rerun with --compile-mode max-autotune --methods plain --batches 1024,16384
timeout 300 $PY benchmarks/sampling.py $B/bundle --devices cuda --methods plain,dgflow,latent-rs \
  --batches 1,64,1024,16384 --reps 10 --warmup 3 --compile-mode reduce-overhead \
  --json "$OUT/sampling_h200.json" --summary "$OUT/targets_h200.md" 2>&1 | cut -c1-400 | tail -30
ls -la "$OUT"
