"""`ganflow train reweight`: latent importance weights w(z) over a frozen generator."""

from __future__ import annotations

from pathlib import Path

import typer

from ganflow.sampler.cli.train.common import is_rank0, need_torch, summary_line, train_app
from ganflow.sampler.cli.train.options import (
    Channels,
    Device,
    ImageSize,
    Layout,
    Out,
    ShowProgress,
    TestFraction,
    ValueRange,
    data_options,
)


@train_app.command(
    "reweight",
    epilog="Example: ganflow train reweight --base runs/mnist --data mnist.npz --out runs/mnist-rw"
    "  (then: ganflow export runs/mnist-rw --out bundles/mnist-rw; ganflow sample ... --method latent-rs)",
)
def train_reweight_cmd(
    base: Path = typer.Option(..., help="the GAN to reweight: a run directory or an exported bundle"),
    out: Out = Path("runs/reweight"),
    data: str = typer.Option(None, help="the base model's data: a name or path \\[default: the base's]"),
    layout: Layout = None,
    value_range: ValueRange = None,
    test_fraction: TestFraction = None,
    image_size: ImageSize = None,
    image_channels: Channels = None,
    steps: int = typer.Option(None, help="weight-network steps \\[default: 2000; on --resume: the run's]"),
    batch_size: int = typer.Option(64),
    n_critic: int = typer.Option(5, help="critic steps per weight step"),
    lr_w: float = typer.Option(1e-4),
    lr_d: float = typer.Option(1e-4),
    lambda1: float = typer.Option(10.0, help="R_norm weight, (mean w - 1)^2"),
    lambda2: float = typer.Option(3.0, help="R_clip weight, mean max(0, w - m)^2"),
    m: float = typer.Option(3.0, help="soft clip of w; LatentRS accepts w.p. min(1, w/m)"),
    hidden: int = typer.Option(256, help="weight network width"),
    normalize_emd: bool = typer.Option(False, help="divide D - Delta by its batch mean (scale-free EMD)"),
    proposal: str = typer.Option(
        "auto", help="latents w(z) is trained on: auto (the base's flow prior if it has one), gaussian, flow"
    ),
    seed: int = typer.Option(0),
    eval_every: int = typer.Option(500),
    ckpt_every: int = typer.Option(500),
    resume: bool = typer.Option(False, help="continue the run in --out"),
    progress: ShowProgress = None,
    device: Device = "auto",
) -> None:
    """Latent reweighting: train w(z) >= 0 and a WGAN-GP critic over a frozen generator."""
    read = data_options(locals())
    train = dict(
        steps=steps,
        batch_size=batch_size,
        n_critic=n_critic,
        lr_w=lr_w,
        lr_d=lr_d,
        lambda1=lambda1,
        lambda2=lambda2,
        m=m,
        hidden=hidden,
        normalize_emd=normalize_emd,
        proposal=proposal,
        seed=seed,
        eval_every=eval_every,
        ckpt_every=ckpt_every,
    )
    need_torch("train")
    from ganflow.training.commands import run_reweight

    result = run_reweight(base, out, data, train, resume, progress, device, read)
    if is_rank0():
        typer.echo(
            f"reweighted to step {result['summary']['step']} in {out} (z from the "
            f"{result['reweight_proposal']} proposal)  {summary_line(result)}"
        )
