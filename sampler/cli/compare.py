"""`ganflow compare`: options only; the work is sampler/compare.py's."""

from __future__ import annotations

from pathlib import Path

import typer

from ganflow.sampler.errors import InputError
from ganflow.sampler.runtime import DEVICES

COMPARE_EXAMPLE = (
    "Example: ganflow compare bundles/g25 -n 5000 --seeds 3 --out report/  |  "
    "ganflow compare bundles/mnist --data ../shared/data/mnist.npz -n 2000 --methods plain,drs --set mh_k=40"
)


def parse_settings(items: list[str] | None) -> dict[str, int | float | str]:
    """["mh_k=40", "drs_gamma=0.5", "mh_data=mnist"] -> {"mh_k": 40, "drs_gamma": 0.5, "mh_data": "mnist"}."""
    out: dict[str, int | float | str] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise InputError(f"--set {item!r}: write KEY=VALUE with a stage option key, e.g. --set mh_k=40")
        for kind in (int, float, str):
            try:
                out[key.strip()] = kind(value)
                break
            except ValueError:
                continue
    return out


def compare_cmd(
    bundle: str = typer.Argument(..., help="bundle folder or Hub id (owner/name\\[@revision])"),
    data: str = typer.Option(None, help="dataset name or MNIST-layout path \\[default: the bundle's]"),
    n: int = typer.Option(5000, "-n", "--num-samples", help="samples per method and seed"),
    methods: str = typer.Option(None, help="comma-separated methods \\[default: all the bundle supports]"),
    seeds: int = typer.Option(3, help="sampling seeds 0 .. K-1, the same for every method"),
    out: Path = typer.Option(None, help="report folder to write (report.md, report.json, PNGs)"),
    settings: list[str] = typer.Option(None, "--set", help="stage option KEY=VALUE for every run (repeat)"),
    device: str = typer.Option("auto", help=", ".join(DEVICES)),
    threads: int = typer.Option(None, help="CPU threads per onnxruntime session \\[default: all cores]"),
    real_n: int = typer.Option(10_000, help="reference examples of the test split (its first ones)"),
    overwrite: bool = typer.Option(False, help="replace an existing report folder"),
) -> None:
    """Run every sampling method of a bundle with the same seeds and compare quality and cost."""
    from ganflow.sampler.compare import compare
    from ganflow.sampler.runtime import RuntimeOptions

    names = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    report = compare(
        bundle, data, n, names, range(seeds), out, options=parse_settings(settings),
        runtime=RuntimeOptions(device, threads), real_n=real_n, overwrite=overwrite, log=typer.echo,
    )  # fmt: skip
    for m, s in report["summary"].items():
        cells = ", ".join(f"{k} {v['mean']:.4g}" for k, v in s.items() if v["mean"] is not None)
        typer.echo(f"{m}: {cells} (mean over {len(report['seeds'])} seeds)")
    if out is not None:
        typer.echo(f"wrote {out}/report.md")
