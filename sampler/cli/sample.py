"""`ganflow sample`: options only; the work is sampler/sample.py's. Registered by main.py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from ganflow.sampler.bundle import METHOD_DEFAULTS
from ganflow.sampler.cli.report import echo_report, on_interrupt, png_folder_note
from ganflow.sampler.pipeline import METHODS
from ganflow.sampler.runtime import DEVICES
from ganflow.sampler.writers import WRITERS

SAMPLE_EXAMPLE = "Example: ganflow sample bundles/g25 -n 10000 --out samples.npz --seed 1"


def from_bundle(method: str, key: str, text: str) -> str:
    """Help text for a stage option whose default the bundle sets: names the fallback of
    METHOD_DEFAULTS (the one source of the defaults), e.g. "[default: from the bundle, 0.1]".
    ("\\[": a literal bracket, not rich markup, which would hide the text.)"""
    value = METHOD_DEFAULTS[method][key]
    return f"{text} \\[default: from the bundle, {value:g}]" if value is not None else text


def _h(method: str, key: str, text: str) -> Any:
    return typer.Option(None, help=from_bundle(method, key, text))


def sample(
    bundle: str = typer.Argument(..., help="bundle folder or Hub id (owner/name\\[@revision])"),
    n: int = typer.Option(64, "-n", "--num-samples", help="number of samples"),
    out: Path = typer.Option(Path("samples.png"), help=".npz, .npy, .png (grid) or a folder"),
    method: str = typer.Option("plain", help=f"sampling method: {', '.join(METHODS.names())}"),
    proposal: str = typer.Option(None, help="proposal stage (overrides the method's)"),
    select: str = typer.Option(None, help="selection stage (overrides the method's)"),
    refine: str = typer.Option(None, help="refinement stage (overrides the method's)"),
    seed: int = typer.Option(0),
    batch_size: int = typer.Option(256),
    truncation: float = typer.Option(None, help="truncate N(0, I) latents at |z_i| <= t"),
    rs_m: float = _h("latent-rs", "m", "latent-rs: maximum weight m"),
    rs_max_rounds: int = _h("latent-rs", "max_rounds", "latent-rs: proposal rounds before giving up"),
    dg_steps: int = _h("dgflow", "steps", "dgflow: refinement steps K"),
    dg_eta: float = _h("dgflow", "eta", "dgflow: step size eta (ganflow export measures one per bundle)"),
    dg_gamma: float = _h("dgflow", "gamma", "dgflow: noise weight gamma"),
    dg_f: str = typer.Option(
        None,
        help="dgflow: f-divergence of the bundle's refine graph: kl, js or logd \\[default: the graph's]",
    ),
    drs_percentile: float = _h("drs", "percentile", "drs: gamma = this percentile of F on the burn-in"),
    drs_gamma: float = typer.Option(None, help="drs: an explicit gamma (overrides --drs-percentile)"),
    drs_burn_in: int = _h("drs", "burn_in", "drs: burn-in proposals that fix max D and gamma"),
    drs_max_rounds: int = _h("drs", "max_rounds", "drs: proposal rounds before giving up"),
    mh_k: int = _h("mh-gan", "k", "mh-gan: chain length K, proposals per sample"),
    mh_data: str = typer.Option(
        None, help="mh-gan: real data, name or path \\[default: the bundle's data set]"
    ),
    mh_calibration: int = _h("mh-gan", "calibration", "mh-gan: real and generated examples for calibration"),
    ddls_steps: int = _h("ddls", "steps", "ddls: Langevin steps"),
    ddls_eps: float = _h("ddls", "eps", "ddls: step size epsilon"),
    device: str = typer.Option("auto", help=", ".join(DEVICES)),
    tf32: bool = typer.Option(False, help="CUDA: allow TF32 math (faster, ~1e-3 relative error)"),
    precision: str = typer.Option("fp32", help="fp32, or fp16 for the bundle's fp16 graphs (export --fp16)"),
    cuda_graph: bool = typer.Option(False, help="CUDA: capture decode and DGflow steps as CUDA graphs"),
    allow_cpu_fallback: bool = typer.Option(
        False, help="CUDA: run graph nodes without a CUDA kernel on the CPU instead of failing"
    ),
    threads: int = typer.Option(None, help="CPU threads per onnxruntime session \\[default: all cores]"),
    fmt: str = typer.Option(None, "--format", help=f"{', '.join(WRITERS.names())} \\[default: from --out]"),
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
    from ganflow.sampler.writers import writer_format

    stages = options_from_flat(
        dict(truncation=truncation, rs_m=rs_m, rs_max_rounds=rs_max_rounds, dg_steps=dg_steps, dg_eta=dg_eta)
        | dict(dg_gamma=dg_gamma, dg_f=dg_f, drs_percentile=drs_percentile, drs_gamma=drs_gamma)
        | dict(drs_burn_in=drs_burn_in, drs_max_rounds=drs_max_rounds, mh_k=mh_k, mh_data=mh_data)
        | dict(mh_calibration=mh_calibration, ddls_steps=ddls_steps, ddls_eps=ddls_eps)
    )
    runtime = RuntimeOptions(device, threads, tf32, precision, cuda_graph, allow_cpu_fallback)
    options = SampleOptions(
        method, proposal, select, refine, seed, batch_size, stages, runtime, fmt, overwrite,
        num_shards, shard_index, progress=sys.stderr.isatty(),
    )  # fmt: skip
    if writer_format(out, fmt) == "png-dir":  # the one output that is not all-or-nothing
        on_interrupt(png_folder_note(out, n))
    echo_report(sample_to(bundle, out, n, options))
