"""The `ganflow` command line: train, export, sample, info, demo."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import typer

from ganflow.sampler.errors import GanflowError, InputError, MissingDependencyError
from ganflow.sampler.hub_cmds import PULL_EXAMPLE, PUSH_EXAMPLE, pull_cmd, push_cmd
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
train_app = typer.Typer(no_args_is_help=True, help="Train a model (needs ganflow[train]).")
app.add_typer(train_app, name="train")


def _need_torch(command: str) -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            f"`ganflow {command}` needs PyTorch: pip install 'ganflow[train]'"
        ) from None


def _echo_report(report: dict[str, Any]) -> None:
    note = report.pop("device_note", "")
    if note:
        typer.echo(f"note: {note}", err=True)
    typer.echo(
        f"wrote {report['samples']} samples to {report['out']} with {report['method']} on "
        f"{report['provider']} ({report['samples_per_s']:.0f} samples/s)"
    )
    if report.get("proposals"):
        rate = report["accepted"] / report["proposals"]
        typer.echo(
            f"latent-rs: accepted {report['accepted']} of {report['proposals']} proposals "
            f"({rate:.1%}, m = {report['latent_rs_m']:g})"
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


# --- train -------------------------------------------------------------------------------------


def _train_gan(
    data: str,
    out: Path,
    dataset: str | None,
    model: dict,
    train: dict,
    resume: bool = False,
    progress: bool | None = None,
    device: str = "auto",
) -> dict:
    """model: arch, latent_dim, width, spectral_norm; train: TrainConfig fields (None = default)."""
    _need_torch("train")
    from ganflow.training import TrainConfig, default_components, train_gan
    from ganflow.training.data import load_dataset

    train = {k: v for k, v in train.items() if v is not None}
    if resume:
        if not (out / "config.json").is_file():
            raise InputError(f"--resume: {out} holds no run (no config.json); drop --resume")
        meta = json.loads((out / "config.json").read_text())
        ds = load_dataset(data, dataset=dataset, seed=meta["train"]["seed"])
        if ds.spec.to_dict() != meta["data"]:
            raise InputError(f"--resume: --data {data} is not the data of the run in {out}")
        cfg = TrainConfig.from_dict({**meta["train"], "steps": train.get("steps", meta["train"]["steps"])})
        return train_gan(out, ds, config=cfg, resume=True, progress=progress, device=device)
    if (out / "config.json").exists():
        raise InputError(f"{out} already holds a run: pass --resume to continue it, or another --out")
    try:
        cfg = TrainConfig(**train)
        ds = load_dataset(data, dataset=dataset, seed=cfg.seed)
        comps = default_components(ds.spec, **model)
    except ValueError as e:
        raise InputError(str(e)) from None
    return train_gan(out, ds, comps, cfg, progress=progress, device=device)


@train_app.command(
    "gan",
    epilog="Example: ganflow train gan --data gaussians25 --out runs/g25 --steps 3000  |  "
    "ganflow train gan --data ../shared/data/mnist.npz --loss wgan-gp --out runs/mnist",
)
def train_gan_cmd(
    data: str = typer.Option(
        ...,
        help="gaussians25, gaussians8, swissroll, mnist, fashion-mnist, "
        "or a path to mnist.npz / a folder of IDX files",
    ),
    out: Path = typer.Option(Path("runs/gan"), help="run directory"),
    dataset: str = typer.Option(None, help="label of a --data path: mnist or fashion-mnist"),
    arch: str = typer.Option("auto", help="mlp, dcgan, or auto (dcgan for images)"),
    width: int = typer.Option(None, help="MLP hidden units / DCGAN base channels"),
    latent_dim: int = typer.Option(None, help="[default: 64 for images, 2 for 2-D data]"),
    spectral_norm: bool = typer.Option(False, help="spectral norm on the critic"),
    loss: str = typer.Option(
        "bce",
        help="bce, wgan-gp, hinge, or an f-GAN divergence: f:kl, f:rkl, f:pearson, f:hellinger, f:js, f:gan",
    ),
    steps: int = typer.Option(None, help="generator steps [default: 2000; on --resume: the run's]"),
    batch_size: int = typer.Option(64),
    lr_g: float = typer.Option(2e-4),
    lr_d: float = typer.Option(2e-4),
    beta1: float = typer.Option(0.5),
    beta2: float = typer.Option(0.999),
    n_critic: int = typer.Option(None, help="critic steps per generator step [loss default]"),
    gp_weight: float = typer.Option(10.0),
    seed: int = typer.Option(0),
    log_every: int = typer.Option(50),
    eval_every: int = typer.Option(500),
    sample_every: int = typer.Option(500),
    ckpt_every: int = typer.Option(500),
    resume: bool = typer.Option(False, help="continue the run in --out (to --steps if given)"),
    progress: bool = typer.Option(None, help="progress bar [default: when a terminal]"),
    device: str = typer.Option("auto", help="auto (CUDA if torch sees a GPU), cuda or cpu"),
) -> None:
    """Train a GAN (non-saturating, WGAN-GP or hinge loss) and checkpoint it in --out.

    Data parallel on K processes: torchrun --nproc-per-node K -m ganflow.sampler.cli train gan ...
    (gloo on CPU, NCCL on GPUs; the global --batch-size is split across the processes)."""
    model = dict(arch=arch, latent_dim=latent_dim, spectral_norm=spectral_norm, width=width)
    train = dict(
        loss=loss,
        steps=steps,
        batch_size=batch_size,
        lr_g=lr_g,
        lr_d=lr_d,
        betas=(beta1, beta2),
        n_critic=n_critic,
        gp_weight=gp_weight,
        seed=seed,
        log_every=log_every,
        eval_every=eval_every,
        sample_every=sample_every,
        ckpt_every=ckpt_every,
    )
    meta = _train_gan(data, out, dataset, model, train, resume, progress, device)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 reports
        return
    s = meta["summary"]
    metrics = " ".join(f"{k}={v:.4g}" for k, v in s["metrics"].items())
    typer.echo(f"trained {meta['family']} to step {s['step']} in {out}  {metrics}")


@train_app.command(
    "reweight",
    epilog="Example: ganflow train reweight --base runs/mnist --data mnist.npz --out runs/mnist-rw"
    "  (then: ganflow export runs/mnist-rw --out bundles/mnist-rw; ganflow sample ... --method latent-rs)",
)
def train_reweight_cmd(
    base: Path = typer.Option(..., help="the GAN to reweight: a run directory or an exported bundle"),
    out: Path = typer.Option(Path("runs/reweight"), help="run directory"),
    data: str = typer.Option(None, help="dataset name or MNIST-layout path [default: the base's dataset]"),
    steps: int = typer.Option(None, help="weight-network steps [default: 2000; on --resume: the run's]"),
    batch_size: int = typer.Option(64),
    n_critic: int = typer.Option(5, help="critic steps per weight step"),
    lr_w: float = typer.Option(1e-4),
    lr_d: float = typer.Option(1e-4),
    lambda1: float = typer.Option(10.0, help="R_norm weight, (mean w - 1)^2"),
    lambda2: float = typer.Option(3.0, help="R_clip weight, mean max(0, w - m)^2"),
    m: float = typer.Option(3.0, help="soft clip of w; LatentRS accepts w.p. min(1, w/m)"),
    hidden: int = typer.Option(256, help="weight network width"),
    normalize_emd: bool = typer.Option(False, help="divide D - Delta by its batch mean (scale-free EMD)"),
    seed: int = typer.Option(0),
    eval_every: int = typer.Option(500),
    ckpt_every: int = typer.Option(500),
    resume: bool = typer.Option(False, help="continue the run in --out"),
    progress: bool = typer.Option(None, help="progress bar [default: when a terminal]"),
    device: str = typer.Option("auto", help="auto (CUDA if torch sees a GPU), cuda or cpu"),
) -> None:
    """Latent reweighting: train w(z) >= 0 and a WGAN-GP critic over a frozen generator."""
    _need_torch("train")
    from ganflow.models.checkpoint import CheckpointError, load_checkpoint
    from ganflow.training.data import load_dataset
    from ganflow.training.reweight import ReweightConfig, train_reweight

    try:
        if resume:
            if not (out / "config.json").is_file():
                raise InputError(f"--resume: {out} holds no run (no config.json); drop --resume")
            meta, _ = load_checkpoint(out)
            cfg = ReweightConfig.from_dict({**meta["reweight"], **({"steps": steps} if steps else {})})
        else:
            if (out / "config.json").exists():
                raise InputError(f"{out} already holds a run: pass --resume or choose another --out")
            meta, _ = load_checkpoint(base)
            cfg = ReweightConfig(
                steps=steps or 2000,
                batch_size=batch_size,
                n_critic=n_critic,
                lr_w=lr_w,
                lr_d=lr_d,
                lambda1=lambda1,
                lambda2=lambda2,
                m=m,
                hidden=hidden,
                seed=seed,
                eval_every=eval_every,
                ckpt_every=ckpt_every,
            )
        ds = load_dataset(data or meta["data"]["dataset"], dataset=meta["data"]["dataset"])
        if ds.spec.to_dict() != meta["data"]:
            raise InputError(f"--data {data} is not the data the base model was trained on ({meta['data']})")
        result = train_reweight(out, ds, base, cfg, resume=resume, progress=progress, device=device)
    except (ValueError, CheckpointError) as e:
        raise InputError(str(e)) from None
    if int(os.environ.get("RANK", "0")) == 0:
        metrics = " ".join(f"{k}={v:.4g}" for k, v in result["summary"]["metrics"].items())
        typer.echo(f"reweighted to step {result['summary']['step']} in {out}  {metrics}")


@train_app.command(
    "classifier",
    epilog="Example (the shipped feature network): ganflow train classifier --data ../shared/data/mnist.npz "
    "--out runs/classifier --onnx sampler/assets/mnist_cnn.onnx",
)
def train_classifier_cmd(
    data: str = typer.Option("mnist", help="mnist, fashion-mnist, or a path to MNIST-layout files"),
    out: Path = typer.Option(Path("runs/classifier"), help="run directory"),
    onnx: Path = typer.Option(
        None, help="where to export the ONNX feature network [default: OUT/model.onnx]"
    ),
    epochs: int = typer.Option(3),
    batch_size: int = typer.Option(128),
    lr: float = typer.Option(1e-3),
    seed: int = typer.Option(0),
    progress: bool = typer.Option(None, help="progress bar [default: when a terminal]"),
    device: str = typer.Option("auto", help="auto (CUDA if torch sees a GPU), cuda or cpu"),
) -> None:
    """Train the MNIST CNN classifier (the metrics' feature network) and export it to ONNX.

    Data parallel under torchrun like `train gan` (BatchNorm and dropout then act per process)."""
    _need_torch("train")
    from ganflow.export.classifier import export_classifier
    from ganflow.training.classifier import train_classifier

    if (out / "config.json").exists():
        raise InputError(f"{out} already holds a run: choose another --out")
    meta = train_classifier(out, data, epochs, batch_size, lr, seed, progress, device=device)
    if int(os.environ.get("RANK", "0")) != 0:
        return
    info = export_classifier(out, onnx or out / "model.onnx")
    typer.echo(
        f"test accuracy {meta['summary']['metrics']['test_accuracy']:.4f}; wrote "
        f"{onnx or out / 'model.onnx'} (sha256 {info['sha256'][:12]}...)"
    )


# --- export / sample / info --------------------------------------------------------------------


def _export(run: Path, out: Path, overwrite: bool) -> dict:
    _need_torch("export")
    from ganflow.export import export_bundle
    from ganflow.models.checkpoint import CheckpointError

    try:
        return export_bundle(run, out, overwrite=overwrite, log=typer.echo)
    except CheckpointError as e:
        raise InputError(str(e)) from None


@app.command(epilog="Example: ganflow export runs/g25 --out bundles/g25")
def export(
    run: Path = typer.Argument(..., help="run directory written by `ganflow train`"),
    out: Path = typer.Option(..., help="bundle folder to write"),
    overwrite: bool = typer.Option(False, help="replace an existing bundle"),
) -> None:
    """Export a trained run to an ONNX bundle, checked against PyTorch."""
    manifest = _export(run, out, overwrite)
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
    device: str = typer.Option("auto", help=", ".join(DEVICES)),
    tf32: bool = typer.Option(False, help="CUDA: allow TF32 math (faster, ~1e-3 relative error)"),
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
        fmt=fmt,
        overwrite=overwrite,
        options={"truncation": truncation, "rs_m": rs_m, "rs_max_rounds": rs_max_rounds},
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
            typer.echo(f"component   {k}: {c['path']} ({sig}) -> ({outs}) opset {c['opset']}")
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
    meta = _train_gan(data or "gaussians25", run, None, model, train)
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


def main() -> None:
    try:
        app()
    except GanflowError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
