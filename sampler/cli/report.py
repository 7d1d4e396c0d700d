"""What the CLI prints: the sampling report, notes, warnings, and the messages for OS errors and
Ctrl-C."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from ganflow.sampler.fsio import target_of
from ganflow.sampler.runtime import announce, split_device_note
from ganflow.sampler.stages.dgflow import far_warning

# -v/--verbose (the root option): notes that are not needed to use the output, e.g. that
# `--device auto` found no CUDA and runs on the CPU, are printed only then
VERBOSE = False


def echo_report(report: dict[str, Any]) -> None:
    """Print `sample_to`'s report: where the samples went, how fast, and what each stage did."""
    cuda, other = split_device_note(report.pop("device_note", ""))
    if cuda and VERBOSE:
        announce(cuda)  # once per process (a demo samples twice)
    if other:
        typer.echo(f"note: {other}", err=True)
    typer.echo(
        f"wrote {report['samples']:,} samples to {report['out']} with {report['method']} on "
        f"{report['provider']} ({report['samples_per_s']:,.0f} samples/s)"
    )
    if any(p != "fp32" for p in report.get("precision", {}).values()):
        typer.echo("precision: " + ", ".join(f"{c} {p}" for c, p in report["precision"].items()))
    if report.get("proposals"):
        kept, tried = report["accepted"], report["proposals"]
        typer.echo(f"{report['selection']}: kept {kept:,} of {tried:,} proposals ({kept / tried:.1%})")
    if "dgflow_steps" in report:
        typer.echo(
            f"dgflow: {report['dgflow_steps']} steps (f {report['dgflow_f']}, eta {report['dgflow_eta']:g}, "
            f"gamma {report['dgflow_gamma']:g}) in {report['dgflow_seconds']:.2f} s"
        )
    if "ddls_steps" in report:
        typer.echo(
            f"ddls: {report['ddls_steps']} Langevin steps (eps {report['ddls_eps']:g}) "
            f"in {report['ddls_seconds']:.2f} s"
        )
    note = _scatter_note(report["out"])
    if note:
        typer.echo(f"note: {note} (the scatter plot; .npz/.npy outputs keep every point)", err=True)
    for method, flag in (("dgflow", "--dg-eta"), ("ddls", "--ddls-eps")):
        warning = far_warning(report, method, flag)
        if warning:
            typer.echo(f"warning: {warning}", err=True)


def _scatter_note(out: str) -> str:
    """What a scatter plot written to `out` says about the points it leaves out ('' if none)."""
    from ganflow.sampler.images import png_text
    from ganflow.sampler.writers import OUTSIDE_NOTE

    path = Path(out)
    if path.suffix.lower() != ".png" or not path.is_file():
        return ""
    with open(path, "rb") as f:
        head = f.read(1 << 16)  # tEXt chunks come before the image data
    return png_text(head).get(OUTSIDE_NOTE, "")


# errno -> what to do about it; outputs were written to temporary files, so nothing is half there
OS_HINTS = {
    errno.ENOSPC: "free some disk space or choose another --out",
    errno.EDQUOT: "free some space in your quota or choose another --out",
    errno.EFBIG: "the file is larger than this system allows: write fewer samples per file (--num-shards)",
    errno.EACCES: "check the permissions or choose another --out",
    errno.EROFS: "the filesystem is read-only: choose another --out",
}


def os_error_message(e: OSError) -> str:
    """One line for an OSError: what, where (the user's output path, not the temporary file the
    atomic write was making) and what to do."""
    where = ""
    if e.filename:
        where = f" ({target_of(e.filename) or e.filename})"
    hint = OS_HINTS.get(e.errno or 0, "check the path and try again")
    return f"{e.strerror or e}{where}: {hint}; nothing was left half written"


# --- Ctrl-C -----------------------------------------------------------------------------------

NOTHING_WRITTEN = "interrupted, nothing written"  # outputs are atomic: complete or absent
_on_interrupt: Callable[[], str] | None = None


def on_interrupt(message: Callable[[], str] | None) -> None:
    """What Ctrl-C leaves behind, for a command whose output is not all-or-nothing (a folder of
    PNGs, a training run); `message()` is called after the interrupt."""
    global _on_interrupt
    _on_interrupt = message


def interrupt_message() -> str:
    try:
        return _on_interrupt() if _on_interrupt is not None else NOTHING_WRITTEN
    except Exception:  # noqa: BLE001  (a message must not raise while we exit)
        return "interrupted"


def png_folder_note(out: Path, n: int) -> Callable[[], str]:
    """Ctrl-C during sampling into a folder of PNGs: each image is whole, the run resumes."""

    def message() -> str:
        have = sum(1 for _ in out.glob("*.png")) if out.is_dir() else 0
        if have == 0:
            return NOTHING_WRITTEN
        return f"interrupted; {have:,} of {n:,} images are in {out}: rerun the same command to resume"

    return message


def run_folder_note(out: Path) -> Callable[[], str]:
    """Ctrl-C during training: the run folder keeps its last checkpoint."""

    def message() -> str:
        import json

        try:
            step = json.loads((out / "config.json").read_text())["summary"]["step"]
        except (OSError, ValueError, KeyError, TypeError):
            return f"interrupted before the first checkpoint: {out} holds no weights yet"
        return f"interrupted; {out} keeps its checkpoint of step {step}: rerun with --resume to continue"

    return message
