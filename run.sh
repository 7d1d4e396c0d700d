#!/usr/bin/env bash
# One command from a fresh clone: creates .venv, installs ganflow and what it needs, then
#   bash run.sh demo [ganflow demo options]   trains, exports and samples a small GAN
#   bash run.sh test [pytest options]          lint + the test suite (CPU)
set -euo pipefail
cd "$(dirname "$0")"
what=${1:-}
shift || true
case "$what" in demo|test) ;; *) echo "usage: bash run.sh demo|test [args...]" >&2; exit 2;; esac

VENV=${GANFLOW_VENV:-.venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
stamp="$VENV/.ganflow-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  "$PY" -m pip install -q --upgrade pip
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
    runtime=gpu
  else
    runtime=cpu
    # the CPU build of torch first: an unpinned torch would pull a CUDA build of several GB
    "$PY" -m pip install -q "torch==2.13.0" 2>/dev/null \
      || "$PY" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu \
      || true
  fi
  "$PY" -m pip install -q -e ".[train,$runtime,test]"
  touch "$stamp"
fi

case "$what" in
  demo) exec "$VENV/bin/ganflow" demo "$@" ;;
  test)
    "$VENV/bin/ruff" check .
    exec "$PY" -m pytest -q "$@" ;;
esac
