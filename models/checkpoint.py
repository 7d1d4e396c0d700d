"""Run-directory checkpoints: model.safetensors (prefixed weights + JSON metadata) and config.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save
from torch import nn

from ganflow.models.build import build_component
from ganflow.sampler.fsio import atomic_write_bytes

WEIGHTS = "model.safetensors"
CONFIG = "config.json"


class CheckpointError(ValueError):
    """A run directory that is missing, incomplete or inconsistent."""


def save_checkpoint(run_dir: str | Path, modules: dict[str, nn.Module], meta: dict[str, Any]) -> None:
    """Write model.safetensors (keys `component.param`) and config.json, each atomically.

    `meta` must hold "components": {name: {"arch": ..., **config}} for every module.
    """
    run_dir = Path(run_dir)
    missing = set(modules) - set(meta.get("components", {}))
    if missing:
        raise CheckpointError(f"meta has no config for components {sorted(missing)}")
    tensors = {
        f"{name}.{k}": v.detach().cpu().contiguous()
        for name, module in modules.items()
        for k, v in module.state_dict().items()
    }
    text = json.dumps(meta, sort_keys=True)
    atomic_write_bytes(
        run_dir / WEIGHTS, save(tensors, metadata={"format": "pt", "ganflow": text}), parents=True
    )
    atomic_write_bytes(run_dir / CONFIG, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())


def load_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, dict[str, torch.Tensor]]]:
    """(meta, {component: state_dict}) from a run directory or a model.safetensors file."""
    path = Path(path)
    file = path / WEIGHTS if path.is_dir() else path
    if not file.is_file():
        raise CheckpointError(f"no {WEIGHTS} at {path}: pass a run directory written by training")
    try:
        with safe_open(str(file), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["ganflow"])
            states: dict[str, dict[str, torch.Tensor]] = {}
            for key in f.keys():
                comp, _, rest = key.partition(".")
                states.setdefault(comp, {})[rest] = f.get_tensor(key)
    except (KeyError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{file} has no ganflow metadata: {e}") from None
    except Exception as e:  # safetensors raises its own error types for corrupt files
        raise CheckpointError(f"{file} is not a readable safetensors file: {e}") from None
    return meta, states


def load_modules(path: str | Path) -> tuple[dict[str, Any], dict[str, nn.Module]]:
    """(meta, {component: module in eval mode}) rebuilt from configs and weights."""
    meta, states = load_checkpoint(path)
    modules: dict[str, nn.Module] = {}
    for name, cfg in meta.get("components", {}).items():
        if name not in states:
            raise CheckpointError(f"checkpoint {path} has a config but no weights for {name!r}")
        module = build_component(name, cfg)
        module.load_state_dict(states[name], strict=True)
        modules[name] = module.eval()
    return meta, modules
