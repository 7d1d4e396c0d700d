"""`ganflow eval`: options and output; the work is sampler/evaluate.py's. Registered by main.py."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ganflow.sampler.metrics import METRICS
from ganflow.sampler.runtime import DEVICES

EVAL_EXAMPLE = (
    "Example: ganflow eval bundles/mnist --data ../shared/data/mnist.npz -n 10000 --out eval.json  |  "
    "ganflow eval samples.npz --data gaussians25 --metrics fid,modes  |  "
    "ganflow eval bundles/ring --data ring.npy --centers centers.npy"
)


def eval_cmd(
    source: str = typer.Argument(..., help="bundle folder or Hub id, or a .npz (with 'samples') / .npy file"),
    data: str = typer.Option(
        None,
        help="a dataset name, MNIST files, or your own .npy/.npz or image folder \\[default: the bundle's "
        "named data set; your own data is read as in training]",
    ),
    dataset: str = typer.Option(None, help="name of --data in metric names \\[MNIST files: mnist]"),
    layout: str = typer.Option(None, help="array files: vector, nhw, nhwc or nchw \\[default: inferred]"),
    value_range: str = typer.Option(None, "--range", help="array files: -1,1 / 0,1 / 0,255 or none"),
    test_fraction: float = typer.Option(None, help="your own data: the held-out share \\[0.1]"),
    image_size: int = typer.Option(None, help="image folders: resize and center-crop to S x S"),
    image_channels: int = typer.Option(None, "--channels", "--image-channels", help="image folders: 1 or 3"),
    split: str = typer.Option("test", help="reference split: test or train"),
    n: int = typer.Option(10_000, "-n", "--num-samples", help="samples to draw (or to read from a file)"),
    metrics: str = typer.Option(
        None, help=f"comma-separated, from: {', '.join(METRICS.names())} \\[default: all but parzen]"
    ),
    features: Path = typer.Option(
        None,
        help="ONNX feature network with a 'features' output \\[default: the ganflow MNIST classifier for "
        "MNIST, the coordinates of vectors, the pixels of other images]",
    ),
    centers: Path = typer.Option(None, help="vectors: mode centers [M, D] (.npy) for the mode metrics"),
    center_std: float = typer.Option(
        None, help="std of each mode (HQ: within 4 std of a center) \\[estimated from the data]"
    ),
    real_n: int = typer.Option(10_000, help="reference examples used (the split's first ones)"),
    method: str = typer.Option("plain", help="sampling method, for a bundle"),
    seed: int = typer.Option(0),
    device: str = typer.Option("auto", help=", ".join(DEVICES)),
    out: Path = typer.Option(None, help="write the results as JSON here"),
) -> None:
    """Evaluate samples against a data split: FID, IS, precision/recall, modes...

    The metrics: FID, IS, MODE, precision/recall, density/coverage, and the mode metrics of the 2-D
    toys (or of your own --centers); names carry the protocol (sample count, data, split, k)."""
    import numpy as np

    from ganflow.sampler.cli.train.options import data_options
    from ganflow.sampler.evaluate import evaluate
    from ganflow.sampler.fsio import atomic_write_text, check_writable
    from ganflow.sampler.runtime import RuntimeOptions
    from ganflow.sampler.sample import SampleOptions

    read = data_options(locals())
    if out is not None:
        check_writable(out)  # before anything is computed: a read-only or missing folder fails now
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    sampling = SampleOptions(method=method, seed=seed, runtime=RuntimeOptions(device))
    result = evaluate(
        source, data, split, n, names, features, real_n, dataset, sampling, read, centers, center_std,
        progress=None,  # a bar on a terminal, a few lines otherwise (stderr)
    )  # fmt: skip
    width = max(len(k) for k in result["metrics"])
    typer.echo(
        f"{result['source']} ({result['n']:,} samples) vs {result['data']} {result['split']} "
        f"({result['real_n']:,} examples)"
    )
    if "modes" in result:
        m = result["modes"]
        typer.echo(f"  modes: {m['n']} centers from {m['centers']}, std {m['std']:.4g} ({m['std_from']})")
    for k, v in result["metrics"].items():
        typer.echo(f"  {k:<{width}}  {v:.6g}")
    typer.echo(f"  ({result['sample_seconds']:.1f} s sampling, {result['metric_seconds']:.1f} s metrics)")
    if out is not None:
        clean = {k: (v if np.isfinite(v) else None) for k, v in result["metrics"].items()}
        atomic_write_text(out, json.dumps({**result, "metrics": clean}, indent=2, sort_keys=True) + "\n")
        typer.echo(f"wrote {out}")
