"""The root `ganflow` app: export, sample, info, eval, demo; compare.py, hub.py (pull/push), train/."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ganflow.sampler.cli.compare import COMPARE_EXAMPLE, compare_cmd
from ganflow.sampler.cli.hub import PULL_EXAMPLE, PUSH_EXAMPLE, pull_cmd, push_cmd
from ganflow.sampler.cli.report import echo_report, os_error_message
from ganflow.sampler.cli.train import train_app
from ganflow.sampler.cli.train.common import need_torch
from ganflow.sampler.errors import GanflowError, InputError
from ganflow.sampler.metrics import METRICS
from ganflow.sampler.pipeline import METHODS
from ganflow.sampler.runtime import DEVICES
from ganflow.sampler.writers import WRITERS

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="ganflow: train GANs, export them to ONNX, sample torch-free.",
)
app.add_typer(train_app, name="train")


def _version(value: bool) -> None:
    if value:
        from ganflow.sampler.version import __version__

        typer.echo(f"ganflow {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """ganflow: train GANs, export them to ONNX, sample torch-free."""


# --- export / sample / info --------------------------------------------------------------------


def _export(run: Path, out: Path, overwrite: bool, fp16: bool = False) -> dict:
    need_torch("export")
    from ganflow.export import export_bundle
    from ganflow.models.checkpoint import CheckpointError

    try:
        return export_bundle(run, out, overwrite=overwrite, log=typer.echo, fp16=fp16)
    except CheckpointError as e:
        raise InputError(str(e)) from None


@app.command(epilog="Example: ganflow export runs/g25 --out bundles/g25")
def export(
    run: Path = typer.Argument(..., help="run directory written by `ganflow train`"),
    out: Path = typer.Option(..., help="bundle folder to write"),
    overwrite: bool = typer.Option(False, help="replace an existing bundle"),
    fp16: bool = typer.Option(
        False, help="also write fp16 variants of generator, critic, weight and refine graphs (validated)"
    ),
) -> None:
    """Export a trained run to an ONNX bundle, checked against PyTorch."""
    manifest = _export(run, out, overwrite, fp16)
    typer.echo(f"wrote bundle {out} ({', '.join(sorted(manifest['components']))})")


@app.command(epilog="Example: ganflow sample bundles/g25 -n 10000 --out samples.npz --seed 1")
def sample(
    bundle: str = typer.Argument(..., help="bundle folder or Hub id (owner/name[@revision])"),
    n: int = typer.Option(64, "-n", "--num-samples", help="number of samples"),
    out: Path = typer.Option(Path("samples.png"), help=".npz, .npy, .png (grid) or a folder"),
    method: str = typer.Option("plain", help=f"sampling method: {', '.join(METHODS.names())}"),
    proposal: str = typer.Option(None, help="proposal stage (overrides the method's)"),
    select: str = typer.Option(None, help="selection stage (overrides the method's)"),
    refine: str = typer.Option(None, help="refinement stage (overrides the method's)"),
    seed: int = typer.Option(0),
    batch_size: int = typer.Option(256),
    truncation: float = typer.Option(None, help="truncate N(0, I) latents at |z_i| <= t"),
    rs_m: float = typer.Option(None, help="latent-rs: maximum weight m [default: the bundle's]"),
    rs_max_rounds: int = typer.Option(None, help="latent-rs: proposal rounds before giving up [100]"),
    dg_steps: int = typer.Option(None, help="dgflow: refinement steps K [default: the bundle's, 25]"),
    dg_eta: float = typer.Option(None, help="dgflow: step size eta [default: the bundle's, 0.1]"),
    dg_gamma: float = typer.Option(None, help="dgflow: noise weight gamma [default: the bundle's, 0.01]"),
    dg_f: str = typer.Option(None, help="dgflow: f-divergence of the bundle's refine graph (kl, js, logd)"),
    drs_percentile: float = typer.Option(None, help="drs: gamma = this percentile of F on the burn-in [95]"),
    drs_gamma: float = typer.Option(None, help="drs: an explicit gamma (overrides --drs-percentile)"),
    drs_burn_in: int = typer.Option(None, help="drs: burn-in proposals that fix max D and gamma [10000]"),
    drs_max_rounds: int = typer.Option(None, help="drs: proposal rounds before giving up [1000]"),
    mh_k: int = typer.Option(None, help="mh-gan: chain length K, proposals per sample [640]"),
    mh_data: str = typer.Option(None, help="mh-gan: real data, name or path [default: the bundle's dataset]"),
    mh_calibration: int = typer.Option(
        None, help="mh-gan: real and generated examples for calibration [1000]"
    ),
    ddls_steps: int = typer.Option(None, help="ddls: Langevin steps [100]"),
    ddls_eps: float = typer.Option(None, help="ddls: step size epsilon [0.01]"),
    device: str = typer.Option("auto", help=", ".join(DEVICES)),
    tf32: bool = typer.Option(False, help="CUDA: allow TF32 math (faster, ~1e-3 relative error)"),
    precision: str = typer.Option("fp32", help="fp32, or fp16 for the bundle's fp16 graphs (export --fp16)"),
    cuda_graph: bool = typer.Option(False, help="CUDA: capture decode and DGflow steps as CUDA graphs"),
    allow_cpu_fallback: bool = typer.Option(
        False, help="CUDA: run graph nodes without a CUDA kernel on the CPU instead of failing"
    ),
    threads: int = typer.Option(None, help="CPU threads per onnxruntime session [default: all cores]"),
    fmt: str = typer.Option(None, "--format", help=f"{', '.join(WRITERS.names())} [from --out]"),
    overwrite: bool = typer.Option(False),
    num_shards: int = typer.Option(1, help="split the N samples into K contiguous shards"),
    shard_index: int = typer.Option(0, help="which shard this worker draws (0 .. K-1)"),
) -> None:
    """Draw samples from a bundle with onnxruntime (no PyTorch needed).

    Sample i depends only on the bundle, method, seed and i: K workers with --num-shards K and
    --shard-index 0..K-1 draw exactly one run's samples (files name-0000i-of-0000K.npz, or one
    shared folder of PNGs); a folder run that was interrupted resumes where it stopped."""
    from ganflow.sampler.runtime import RuntimeOptions
    from ganflow.sampler.sample import SampleOptions, sample_to
    from ganflow.sampler.stages import options_from_flat

    stages = options_from_flat(
        {"truncation": truncation, "rs_m": rs_m, "rs_max_rounds": rs_max_rounds}
        | {"dg_steps": dg_steps, "dg_eta": dg_eta, "dg_gamma": dg_gamma, "dg_f": dg_f}
        | {"drs_percentile": drs_percentile, "drs_gamma": drs_gamma, "drs_burn_in": drs_burn_in}
        | {
            "drs_max_rounds": drs_max_rounds,
            "mh_k": mh_k,
            "mh_data": mh_data,
            "mh_calibration": mh_calibration,
        }
        | {"ddls_steps": ddls_steps, "ddls_eps": ddls_eps}
    )
    runtime = RuntimeOptions(device, threads, tf32, precision, cuda_graph, allow_cpu_fallback)
    options = SampleOptions(
        method, proposal, select, refine, seed, batch_size, stages, runtime, fmt, overwrite,
        num_shards, shard_index, progress=sys.stderr.isatty(),
    )  # fmt: skip
    report = sample_to(bundle, out, n, options)
    echo_report(report)


@app.command(epilog="Example: ganflow info bundles/g25 --json")
def info(
    bundle: str = typer.Argument(..., help="bundle folder or Hub id (owner/name[@revision])"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Show a bundle's manifest, components, supported methods and integrity."""
    from ganflow.sampler.bundle import integrity_report, load_bundle
    from ganflow.sampler.hub import is_hub_ref, pull
    from ganflow.sampler.pipeline import supported_methods

    # a local folder is read as it is, to report its integrity; a Hub id is pulled (and verified)
    b = load_bundle(pull(bundle) if is_hub_ref(bundle) else bundle, verify=False)
    integrity = integrity_report(b)
    doc = {
        "bundle": str(b.root),
        "family": b.manifest.get("family"),
        "latent_dim": b.latent_dim,
        "data": b.manifest["data"],
        "methods": supported_methods(b),
        "components": {
            k: {
                "path": str(c.path.relative_to(b.root.resolve())),
                "inputs": c.inputs,
                "outputs": c.outputs,
                "opset": c.opset,
                "variants": {v: str(p.relative_to(b.root.resolve())) for v, p in c.variants.items()},
            }
            for k, c in b.components.items()
        },
        "integrity": integrity,
        "provenance": b.manifest.get("provenance", {}),
    }
    if as_json:
        typer.echo(json.dumps(doc, indent=2))
    else:
        typer.echo(
            f"bundle      {doc['bundle']}\nfamily      {doc['family']}\n"
            f"data        {b.manifest['data']}\nlatent_dim  {b.latent_dim}\n"
            f"methods     {', '.join(doc['methods'])}"
        )
        for k, c in doc["components"].items():
            sig = ", ".join(f"{i['name']}{i['shape']}" for i in c["inputs"])
            outs = ", ".join(f"{o['name']}{o['shape']}" for o in c["outputs"])
            extra = "".join(f", {v}: {p}" for v, p in c["variants"].items())
            typer.echo(f"component   {k}: {c['path']} ({sig}) -> ({outs}) opset {c['opset']}{extra}")
        prov = doc["provenance"]
        typer.echo(f"trained     {prov.get('steps')} steps, metrics {prov.get('metrics')}")
        for f, status in integrity.items():
            typer.echo(f"integrity   {f}: {status}")
    if any(v != "ok" for v in integrity.values()):
        raise typer.Exit(1)


@app.command(
    "eval",
    epilog="Example: ganflow eval bundles/mnist --data ../shared/data/mnist.npz -n 10000 --out eval.json  |  "
    "ganflow eval samples.npz --data gaussians25 --metrics fid,modes  |  "
    "ganflow eval bundles/ring --data ring.npy --centers centers.npy",
)
def eval_cmd(
    source: str = typer.Argument(..., help="bundle folder or Hub id, or a .npz (with 'samples') / .npy file"),
    data: str = typer.Option(
        None,
        help="a dataset name, MNIST files, or your own .npy/.npz or image folder \\[default: the bundle's "
        "named data set; your own data is read as in training]",
    ),
    dataset: str = typer.Option(None, help="name of --data in metric names \\[MNIST files: mnist]"),
    layout: str = typer.Option(None, help="array files: vector, nhw, nhwc or nchw \\[inferred]"),
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
    """Evaluate samples against a dataset split: FID, IS, MODE, precision/recall, density/coverage,
    mode metrics (toys, --centers)..."""
    import numpy as np

    from ganflow.sampler.cli.train.options import data_options
    from ganflow.sampler.evaluate import evaluate
    from ganflow.sampler.fsio import atomic_write_text
    from ganflow.sampler.runtime import RuntimeOptions
    from ganflow.sampler.sample import SampleOptions

    read = data_options(locals())
    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    sampling = SampleOptions(method=method, seed=seed, runtime=RuntimeOptions(device))
    result = evaluate(
        source, data, split, n, names, features, real_n, dataset, sampling, read, centers, center_std
    )
    width = max(len(k) for k in result["metrics"])
    typer.echo(
        f"{result['source']} ({result['n']} samples) vs {result['data']} {result['split']} "
        f"({result['real_n']} examples)"
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


# --- demo --------------------------------------------------------------------------------------


@app.command(epilog="Example: ganflow demo  |  ganflow demo --data ../shared/data/mnist.npz")
def demo(
    data: str = typer.Option(None, help="path to MNIST (npz or IDX folder) \\[default: 25 Gaussians]"),
    out: Path = typer.Option(Path("ganflow-demo"), help="folder for the run, bundle and samples"),
    steps: int = typer.Option(None, help="generator steps \\[default: 6000 (2-D), 2000 (MNIST)]"),
    device: str = typer.Option("auto", help="auto, cuda or cpu for sampling"),
    overwrite: bool = typer.Option(False, help="replace the demo already in --out"),
) -> None:
    """Train a small GAN, export it, sample from the bundle, and print where it all is."""
    from ganflow.sampler.runtime import RuntimeOptions
    from ganflow.sampler.sample import SampleOptions, sample_to

    image = data is not None
    run, bundle = out / "run", out / "bundle"
    if (run / "config.json").exists():
        if not overwrite:
            raise InputError(f"{out} already holds a demo: pass --overwrite to replace it, or another --out")
        _remove_demo(out)
    typer.echo(f"1/3 training a GAN on {data or 'gaussians25'} in {run}")
    need_torch("train")
    from ganflow.training.commands import run_demo

    meta = run_demo(data, run, steps)
    typer.echo(f"    step {meta['summary']['step']}: {meta['summary']['metrics']}")
    typer.echo(f"2/3 exporting to {bundle}")
    _export(run, bundle, overwrite=True)
    typer.echo("3/3 sampling from the bundle with onnxruntime")
    grid = out / "samples.png"
    n_grid = 64 if image else 5000
    options = SampleOptions(runtime=RuntimeOptions(device), overwrite=True)
    echo_report(sample_to(bundle, grid, n_grid, options))
    echo_report(sample_to(bundle, out / "samples.npz", 10_000, options))
    typer.echo(
        f"\nrun (checkpoints, metrics.jsonl, samples/): {run}\nbundle: {bundle}\n"
        f"sample grid: {grid}\nsamples: {out / 'samples.npz'}\n"
        f"next: ganflow info {bundle}  |  ganflow sample {bundle} -n 16 --out more.png"
    )


def _remove_demo(out: Path) -> None:
    """Delete what a demo wrote in `out` (and nothing else that may be there)."""
    import shutil

    for name in ("run", "bundle"):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in ("samples.png", "samples.npz"):
        (out / name).unlink(missing_ok=True)


app.command("compare", epilog=COMPARE_EXAMPLE)(compare_cmd)
app.command("pull", epilog=PULL_EXAMPLE)(pull_cmd)
app.command("push", epilog=PUSH_EXAMPLE)(push_cmd)


def _click_kind(e: BaseException) -> str | None:
    """'usage' or 'abort' for click's exceptions (typer vendors click, so match class names)."""
    names = {c.__name__ for c in type(e).__mro__}
    return "usage" if "UsageError" in names else "abort" if "Abort" in names else None


def main() -> None:
    try:
        code = app(standalone_mode=False)  # click's own errors come back to us as exceptions
        sys.exit(code if isinstance(code, int) else 0)
    except GanflowError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except OSError as e:  # disk full, file too large, permission denied, read-only filesystem...
        typer.echo(f"error: {os_error_message(e)}", err=True)
        sys.exit(3)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as e:
        kind = _click_kind(e)
        if kind == "usage":  # wrong type, missing or unknown option/command
            ctx, message = getattr(e, "ctx", None), e.format_message()
            if message:  # (none when the help was shown for a bare command)
                where = ctx.command_path if ctx else "ganflow"
                typer.echo(f"error: {message} (see: {where} --help)", err=True)
            sys.exit(2)
        if kind == "abort":
            typer.echo("interrupted", err=True)
            sys.exit(130)
        raise
