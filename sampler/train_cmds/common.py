"""What every `ganflow train ...` command shares: the sub-app, the torch check, run-folder rules."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ganflow.sampler.errors import InputError, MissingDependencyError

train_app = typer.Typer(no_args_is_help=True, help="Train a model (needs ganflow[train]).")


def need_torch(command: str) -> None:
    """Raise a one-line hint when PyTorch is missing (train/export import it only when invoked)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            f"`ganflow {command}` needs PyTorch: pip install 'ganflow[train]'"
        ) from None


def check_out(out: Path, resume: bool) -> None:
    """A new run needs an empty --out; --resume needs a run there."""
    if resume and not (out / "config.json").is_file():
        raise InputError(f"--resume: {out} holds no run (no config.json); drop --resume")
    if not resume and (out / "config.json").exists():
        raise InputError(f"{out} already holds a run: pass --resume to continue it, or another --out")


def is_rank0() -> bool:
    """Under torchrun only rank 0 reports."""
    return int(os.environ.get("RANK", "0")) == 0


def summary_line(meta: dict) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in meta["summary"]["metrics"].items())
