#!/usr/bin/env bash
# Run HERE (no GPU needed) before a device session: puts what the GPU machine needs into .gpu/
# (git-ignored through .git/info/exclude), in six folders that each travel with one `run` call:
#   .gpu/p1 .. .gpu/p6: the onnxruntime-gpu 1.31.1 wheel (CUDA 13, cp312) in six parts;
#   .gpu/p6 also holds the wheel's file name, MNIST (tests and the bench bundle need it) and
#   pytest's wheels.
# Each part plus the working tree stays under the 64 MiB a call may carry. Then, on the device:
#   runs 1-5:  carry [".gpu/pK"],  command: mkdir -p /tmp/w && cp .gpu/pK/* /tmp/w/
#   run 6:     carry [".gpu/p6"],  command: bash benchmarks/gpu/device_check.sh
# (the machine keeps /tmp while it stays warm, about 30 s after each call).
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
rm -rf .gpu /tmp/ortw && mkdir -p .gpu /tmp/ortw
pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 -d /tmp/ortw onnxruntime-gpu==1.31.1
wheel=$(ls /tmp/ortw/*.whl)
(cd /tmp/ortw && split -n 6 -d "$wheel" part.)
for k in 0 1 2 3 4 5; do mkdir -p ".gpu/p$((k + 1))" && mv "/tmp/ortw/part.0$k" ".gpu/p$((k + 1))/"; done
basename "$wheel" >.gpu/p6/wheel-name
cp ../shared/data/mnist.npz .gpu/p6/
# pytest and its dependencies (pure Python): the device image may lack them and has no network
pip download --no-deps --only-binary=:all: --python-version 3.12 -d .gpu/p6/wheels \
  pytest pluggy iniconfig packaging pygments
du -sh .gpu/p*
