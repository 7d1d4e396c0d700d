"""The `ganflow` command line: export, sample, info, eval, demo, pull, push (train: train_cmds/)."""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path
from typing import Any

import typer

from ganflow.sampler.errors import GanflowError, InputError
from ganflow.sampler.hub_cmds import PULL_EXAMPLE, PUSH_EXAMPLE, pull_cmd, push_cmd
from ganflow.sampler.metrics import METRICS
from ganflow.sampler.pipeline import METHODS
from ganflow.sampler.runtime import DEVICES
from ganflow.sampler.train_cmds import train_app
from ganflow.sampler.train_cmds.common import need_torch
from ganflow.sampler.train_cmds.gan import train_gan_run
from ganflow.sampler.writers import WRITERS

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="ganflow: train GANs, export them to ONNX, sample torch-free.",
)
app.add_typer(train_app, name="train")


def _echo_report(report: dict[str, Any]) -> None:
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
        rate = report["accepted"] / report["proposals"]
        typer.echo(
            f"latent-rs: accepted {report['accepted']} of {report['proposals']} proposals "
            f"({rate:.1%}, m = {report['latent_rs_m']:g})"
        )
    if "dgflow_steps" in report:
        typer.echo(
            f"dgflow: {report['dgflow_steps']} steps (f {report['dgflow_f']}, eta {report['dgflow_eta']:g}, "
            f"gamma {report['dgflow_gamma']:g}) in {report['dgflow_seconds']:.2f} s"
        )


# The demo's settings (the end-to-end test trains with the 2-D ones too): model, trainer
DEMO = {
    "2d": (
        {"arch": "mlp", "latent_dim": 2, "width": 128},
        {
            "loss": "bce",
            "steps": 6000,
            "batch_size": 512,
            "lr_g": 5e-4,
            "lr_d": 5e-4,
            "betas": (0.5, 0.999),
            "eval_every": 1000,
            "sample_every": 1000,
            "ckpt_every": 1000,
        },
    ),
    "mnist": (
        {"arch": "dcgan", "latent_dim": 64, "width": 32},
        {
            "loss": "bce",
            "steps": 2000,
            "batch_size": 64,
            "lr_g": 2e-4,
            "lr_d": 2e-4,
            "betas": (0.5, 0.999),
            "eval_every": 500,
            "sample_every": 500,
            "ckpt_every": 500,
        },
    ),
}


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
    from ganflow.sampler.sample import sample_to

    report = sample_to(
        bundle,
        out,
        n,
        method=method,
        proposal=proposal,
        select=select,
        refine=refine,
        seed=seed,
        batch_size=batch_size,
        device=device,
        tf32=tf32,
        threads=threads,
        precision=precision,
        cuda_graph=cuda_graph,
        allow_cpu_fallback=allow_cpu_fallback,
        fmt=fmt,
        overwrite=overwrite,
        options={
            "truncation": truncation,
            "rs_m": rs_m,
            "rs_max_rounds": rs_max_rounds,
            **{"dg_steps": dg_steps, "dg_eta": dg_eta, "dg_gamma": dg_gamma, "dg_f": dg_f},
        },
        progress=sys.stderr.isatty(),
        num_shards=num_shards,
        shard_index=shard_index,
    )
    _echo_report(report)


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
    "ganflow eval samples.npz --data gaussians25 --metrics fid,modes",
)
def eval_cmd(
    source: str = typer.Argument(..., help="bundle folder or Hub id, or a .npz (with 'samples') / .npy file"),
    data: str = typer.Option(None, help="dataset name or MNIST-layout path [default: the bundle's]"),
    dataset: str = typer.Option(None, help="label of a --data path: mnist or fashion-mnist"),
    split: str = typer.Option("test", help="reference split: test or train"),
    n: int = typer.Option(10_000, "-n", "--num-samples", help="samples to draw (or to read from a file)"),
    metrics: str = typer.Option(
        None, help=f"comma-separated, from: {', '.join(METRICS.names())} [default: all that apply but parzen]"
    ),
    features: Path = typer.Option(
        None, help="ONNX feature network with a 'features' output [default: the ganflow MNIST classifier]"
    ),
    real_n: int = typer.Option(10_000, help="reference examples used (the split's first ones)"),
    method: str = typer.Option("plain", help="sampling method, for a bundle"),
    seed: int = typer.Option(0),
    device: str = typer.Option("auto", help=", ".join(DEVICES)),
    out: Path = typer.Option(None, help="write the results as JSON here"),
) -> None:
    """Evaluate samples against a dataset split: FID, IS, MODE, precision/recall, density/coverage..."""
    import numpy as np

    from ganflow.sampler.evaluate import evaluate
    from ganflow.sampler.fsio import atomic_write_text

    names = [m.strip() for m in metrics.split(",") if m.strip()] if metrics else None
    result = evaluate(
        source, data, split, n, names, features, real_n, dataset, method=method, seed=seed, device=device
    )
    width = max(len(k) for k in result["metrics"])
    typer.echo(
        f"{result['source']} ({result['n']} samples) vs {result['data']} {result['split']} "
        f"({result['real_n']} examples)"
    )
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
    data: str = typer.Option(None, help="path to MNIST (npz or IDX folder) [default: 25 Gaussians]"),
    out: Path = typer.Option(Path("ganflow-demo"), help="folder for the run, bundle and samples"),
    steps: int = typer.Option(None, help="[default: 6000 (2-D), 2000 (MNIST)]"),
    device: str = typer.Option("auto", help="auto, cuda or cpu for sampling"),
) -> None:
    """Train a small GAN, export it, sample from the bundle, and print where it all is."""
    from ganflow.sampler.sample import sample_to

    image = data is not None
    run, bundle = out / "run", out / "bundle"
    if (run / "config.json").exists():
        raise InputError(f"{out} already holds a demo: remove it or pass another --out")
    model, train = DEMO["mnist" if image else "2d"]
    train = {**train, "steps": steps or train["steps"]}
    typer.echo(f"1/3 training a GAN on {data or 'gaussians25'} in {run}")
    meta = train_gan_run(data or "gaussians25", run, None, model, train)
    typer.echo(f"    step {meta['summary']['step']}: {meta['summary']['metrics']}")
    typer.echo(f"2/3 exporting to {bundle}")
    _export(run, bundle, overwrite=True)
    typer.echo("3/3 sampling from the bundle with onnxruntime")
    grid = out / "samples.png"
    n_grid = 64 if image else 5000
    _echo_report(sample_to(bundle, grid, n_grid, device=device, overwrite=True))
    _echo_report(sample_to(bundle, out / "samples.npz", 10_000, device=device, overwrite=True))
    typer.echo(
        f"\nrun (checkpoints, metrics.jsonl, samples/): {run}\nbundle: {bundle}\n"
        f"sample grid: {grid}\nsamples: {out / 'samples.npz'}\n"
        f"next: ganflow info {bundle}  |  ganflow sample {bundle} -n 16 --out more.png"
    )


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


if __name__ == "__main__":
    main()
