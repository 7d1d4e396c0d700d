"""Resume state (optimizers, RNG streams, step) in state.safetensors: no pickle.

A checkpoint is two atomic writes (this state, then model.safetensors), so a run killed between
them would hold a state one interval ahead of its weights. The previous state is therefore kept
as state.prev.safetensors until the weights are written, and resuming picks the state whose step
matches the weights: a run killed anywhere loses at most one checkpoint interval.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save

from ganflow.models.checkpoint import WEIGHTS
from ganflow.sampler.fsio import atomic_write_bytes

STATE = "state.safetensors"
PREV = "state.prev.safetensors"


def _optimizer_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors = {
        f"{prefix}.state.{idx}.{key}": (v if torch.is_tensor(v) else torch.tensor(v)).cpu().contiguous()
        for idx, st in sd["state"].items()
        for key, v in st.items()
    }
    return tensors, {"param_groups": sd["param_groups"]}


def save_state(
    run_dir: str | Path,
    step: int,
    optimizers: dict[str, torch.optim.Optimizer],
    rngs: dict[str, torch.Generator],
    modules: dict[str, torch.nn.Module] | None = None,
) -> None:
    """Write optimizer state, generator RNG states and the global torch RNG state atomically;
    `modules` are training-only weights that are not exported (e.g. the raw generator under EMA)."""
    tensors: dict[str, torch.Tensor] = {
        f"module.{name}.{k}": v.detach().cpu().contiguous()
        for name, m in (modules or {}).items()
        for k, v in m.state_dict().items()
    }
    meta: dict = {"step": step, "optimizers": {}}
    for name, opt in optimizers.items():
        t, m = _optimizer_tensors(f"opt.{name}", opt)
        tensors.update(t)
        meta["optimizers"][name] = m
    for name, g in rngs.items():
        tensors[f"rng.{name}"] = g.get_state()
    tensors["rng.__torch_global__"] = torch.get_rng_state()
    data = save(tensors, metadata={"format": "pt", "ganflow_state": json.dumps(meta)})
    run_dir = Path(run_dir)
    if (run_dir / STATE).is_file():
        os.replace(run_dir / STATE, run_dir / PREV)  # kept until the weights of `step` are written
    atomic_write_bytes(run_dir / STATE, data, parents=True)


def _step_of(path: Path) -> int | None:
    try:
        with safe_open(str(path), framework="pt") as f:
            return int(json.loads(f.metadata()["ganflow_state"])["step"])
    except Exception:  # noqa: BLE001  missing or unreadable: not a candidate
        return None


def _weights_step(run_dir: Path) -> int | None:
    try:
        with safe_open(str(run_dir / WEIGHTS), framework="pt") as f:
            return int(json.loads(f.metadata()["ganflow"])["summary"]["step"])
    except Exception:  # noqa: BLE001
        return None


def state_file(run_dir: str | Path) -> Path:
    """The state file that matches the run's weights (state, or the previous one after a kill
    between the two writes of a checkpoint); the newest state if the weights say nothing."""
    run_dir = Path(run_dir)
    want = _weights_step(run_dir)
    for name in (STATE, PREV):
        step = _step_of(run_dir / name)
        if step is not None and (want is None or step == want):
            return run_dir / name
    return run_dir / STATE


def load_state(
    run_dir: str | Path,
    optimizers: dict[str, torch.optim.Optimizer],
    rngs: dict[str, torch.Generator],
    modules: dict[str, torch.nn.Module] | None = None,
) -> int:
    """Restore what save_state wrote into the given optimizers and generators; returns the step."""
    path = state_file(run_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no {STATE} in {run_dir}: this run cannot be resumed")
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["ganflow_state"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    for name, opt in optimizers.items():
        state: dict[int, dict] = {}
        prefix = f"opt.{name}.state."
        for key, v in tensors.items():
            if key.startswith(prefix):
                idx, field = key[len(prefix) :].split(".", 1)
                state.setdefault(int(idx), {})[field] = v
        opt.load_state_dict({"state": state, **meta["optimizers"][name]})
    for name, m in (modules or {}).items():
        prefix = f"module.{name}."
        m.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    for name, g in rngs.items():
        g.set_state(tensors[f"rng.{name}"])
    torch.set_rng_state(tensors["rng.__torch_global__"])
    return int(meta["step"])
