"""What the CLI prints: the one-line sampling report and the messages for OS errors."""

from __future__ import annotations

import errno
from typing import Any

import typer


def echo_report(report: dict[str, Any]) -> None:
    """Print `sample_to`'s report: where the samples went, how fast, and what each stage did."""
    note = report.pop("device_note", "")
    if note:
        typer.echo(f"note: {note}", err=True)
    typer.echo(
        f"wrote {report['samples']} samples to {report['out']} with {report['method']} on "
        f"{report['provider']} ({report['samples_per_s']:.0f} samples/s)"
    )
    if any(p != "fp32" for p in report.get("precision", {}).values()):
        typer.echo("precision: " + ", ".join(f"{c} {p}" for c, p in report["precision"].items()))
    if report.get("proposals"):
        kept, tried = report["accepted"], report["proposals"]
        typer.echo(f"{report['selection']}: kept {kept} of {tried} proposals ({kept / tried:.1%})")
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


# errno -> what to do about it; outputs were written to temporary files, so nothing is half there
OS_HINTS = {
    errno.ENOSPC: "free some disk space or choose another --out",
    errno.EDQUOT: "free some space in your quota or choose another --out",
    errno.EFBIG: "the file is larger than this system allows: write fewer samples per file (--num-shards)",
    errno.EACCES: "check the permissions or choose another --out",
    errno.EROFS: "the filesystem is read-only: choose another --out",
}


def os_error_message(e: OSError) -> str:
    where = f" ({e.filename})" if e.filename else ""
    hint = OS_HINTS.get(e.errno or 0, "check the path and try again")
    return f"{e.strerror or e}{where}: {hint}; nothing was left half written"
