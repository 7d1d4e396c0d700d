"""`ganflow train corrector`: DGflow's density-ratio corrector C over a frozen GAN (d = D + C)."""

from __future__ import annotations

from pathlib import Path

import typer

from ganflow.sampler.cli.train.common import is_rank0, need_torch, train_app
from ganflow.sampler.cli.train.options import (
    Channels,
    Device,
    ImageSize,
    Layout,
    TestFraction,
    ValueRange,
    data_options,
    remember_run,
)


@train_app.command(
    "corrector",
    epilog="Example: ganflow train corrector --base runs/mnist-wgan --out runs/mnist-wgan-c"
    "  (then: ganflow export runs/mnist-wgan-c --out bundles/w; ganflow sample bundles/w --method dgflow)",
)
def train_corrector_cmd(
    base: Path = typer.Option(None, help="the GAN to correct: a run directory or an exported bundle"),
    out: Path = typer.Option(
        Path("runs/corrector"), help="run directory (generator, critic, corrector)", callback=remember_run
    ),
    data: str = typer.Option(None, help="the base model's data: a name or path \\[default: the base's]"),
    layout: Layout = None,
    value_range: ValueRange = None,
    test_fraction: TestFraction = None,
    image_size: ImageSize = None,
    image_channels: Channels = None,
    steps: int = typer.Option(None, help="corrector steps \\[default: 1000; on --resume: the run's]"),
    batch_size: int = typer.Option(64),
    lr: float = typer.Option(2e-4),
    seed: int = typer.Option(0),
    ckpt_every: int = typer.Option(250, help="checkpoint (and resume point) every this many steps"),
    resume: bool = typer.Option(False, help="continue the run in --out (its own G and D; no --base)"),
    device: Device = "cpu",
) -> None:
    """Train a density-ratio corrector C over a run's critic D (for DGflow, DRS, MH-GAN, DDLS).

    d = D + C becomes a logistic real-vs-generated classifier, an estimate of log p_data/p_G,
    which DGflow needs; a WGAN-GP or hinge critic alone is not one."""
    read = data_options(locals())
    train = dict(steps=steps, batch_size=batch_size, lr=lr, seed=seed, ckpt_every=ckpt_every)
    need_torch("train")
    from ganflow.training.commands import run_corrector

    result = run_corrector(base, out, data, train, resume, device, read)
    if not is_rank0():
        return
    s = result["summary"]["corrector"]
    typer.echo(
        f"trained corrector for {result['corrector']['steps']} steps in {out}: logistic loss "
        f"{s['loss']:.4g} (critic alone {s['critic_loss']:.4g}), accuracy {s['accuracy']:.3f}"
    )
