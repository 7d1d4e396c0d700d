#!/usr/bin/env bash
# One command from a fresh clone: creates .venv, installs ganflow and what it needs, then
#   bash run.sh demo [ganflow demo options]   trains, exports and samples a small GAN
#   bash run.sh test [pytest options]          lint + the test suite (CPU)
# Paths given to the demo (--out, --data) are relative to the folder you call it from.
set -euo pipefail
caller=$(pwd)
root=$(cd "$(dirname "$0")" && pwd)
cd "$root"
what=${1:-}
shift || true
case "$what" in demo|test) ;; *) echo "usage: bash run.sh demo|test [args...]" >&2; exit 2;; esac

VENV=${GANFLOW_VENV:-.venv}
case "$VENV" in /*) ;; *) VENV="$root/$VENV";; esac
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
  "$PY" -m pip install -q -e ".[train,$runtime,test,images]"
  touch "$stamp"
fi

case "$what" in
  demo)
    cd "$caller"
    "$VENV/bin/ganflow" demo "$@"
    echo "ganflow is installed in $VENV: run 'source $VENV/bin/activate' (or call $VENV/bin/ganflow) to use it"
    ;;
  test)
    "$VENV/bin/ruff" check .
    exec "$PY" -m pytest -q "$@" ;;
esac
