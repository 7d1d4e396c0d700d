"""What every `ganflow train ...` command shares: the sub-app, the torch check, rank-0 reporting."""

from __future__ import annotations

import os
from typing import Any

import typer

from ganflow.sampler.errors import MissingDependencyError

# "\[": a literal bracket, not rich markup (which would eat "[train]")
train_app = typer.Typer(no_args_is_help=True, help="Train a model (needs ganflow\\[train]).")


def need_torch(command: str) -> None:
    """Raise a one-line hint when PyTorch is missing (train/export import it only when invoked)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            f"`ganflow {command}` needs PyTorch: pip install 'ganflow[train]'"
        ) from None


def is_rank0() -> bool:
    """Under torchrun only rank 0 reports."""
    return int(os.environ.get("RANK", "0")) == 0


def summary_line(meta: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in meta["summary"]["metrics"].items())
