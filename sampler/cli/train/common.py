"""What every `ganflow train ...` command shares: the sub-app, the torch check, rank-0 reporting."""

from __future__ import annotations

import os
from typing import Any

import typer

from ganflow.sampler.errors import MissingDependencyError

# no brackets in the group's one-line help: rich reads "[train]" as markup and drops it ("needs
# ganflow"), and an escaped "\[" shows its backslash where rich is not used
train_app = typer.Typer(
    no_args_is_help=True,
    help="Train a model: GAN, FIS-GAN, Flow-GAN, reweighting, corrector, classifier (needs PyTorch).",
)


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
