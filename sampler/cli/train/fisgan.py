"""`ganflow train fisgan`: FIS-GAN, the GAN trainer with a flow prior refitted to the importance
density of the generator's Jacobian norms (papers/fis-gan.md, Algorithm 1)."""

from __future__ import annotations

from pathlib import Path

import typer

from ganflow.sampler.cli.train.common import is_rank0, need_torch, summary_line, train_app
from ganflow.sampler.cli.train.options import (
    Arch,
    Channels,
    Data,
    DatasetLabel,
    Device,
    Ema,
    ImageSize,
    LatentDim,
    Layout,
    Loss,
    NCritic,
    Out,
    Resume,
    ShowProgress,
    SpectralNorm,
    Steps,
    TestFraction,
    ValueRange,
    Width,
    data_options,
    model_and_train,
)


@train_app.command(
    "fisgan",
    epilog="Example: ganflow train fisgan --data ../shared/data/mnist.npz --out runs/fis "
    "--flow realnvp --refit-every 10 --refit-epochs 5 --lr-g 1e-3 --lr-d 1e-4",
)
def train_fisgan_cmd(
    data: Data = ...,
    out: Out = Path("runs/fisgan"),
    dataset: DatasetLabel = None,
    layout: Layout = None,
    value_range: ValueRange = None,
    test_fraction: TestFraction = None,
    image_size: ImageSize = None,
    image_channels: Channels = None,
    arch: Arch = "auto",
    width: Width = None,
    latent_dim: LatentDim = None,
    spectral_norm: SpectralNorm = False,
    loss: Loss = "bce",
    steps: Steps = None,
    batch_size: int = 64,
    lr_g: float = typer.Option(2e-4, help="the paper uses 1e-3"),
    lr_d: float = typer.Option(2e-4, help="the paper uses 1e-4"),
    beta1: float = 0.5,
    beta2: float = 0.999,
    n_critic: NCritic = None,
    gp_weight: float = 10.0,
    ema: Ema = None,
    seed: int = 0,
    log_every: int = 50,
    eval_every: int = 500,
    sample_every: int = 500,
    ckpt_every: int = 500,
    flow: str = typer.Option("realnvp", help="latent flow Q(z): realnvp, maf or iaf"),
    flow_layers: int = typer.Option(4, help="flow layers (couplings / MADEs)"),
    flow_hidden: int = typer.Option(128, help="hidden units of each flow layer's network"),
    norm: str = typer.Option("frobenius", help="Jacobian norm: frobenius (exact), nuclear, hutchinson"),
    probes: int = typer.Option(1, help="hutchinson: random probes per example"),
    refit_every: int = typer.Option(10, help="t: refit the flow every t generator steps"),
    refit_epochs: int = typer.Option(5, help="E: epochs over the augmented set per refit"),
    sigma: float = typer.Option(1.0, help="std of the augmentation N(z_j, sigma^2 I)"),
    n_aug: int = typer.Option(1024, help="N: size of the augmented set"),
    flow_batch: int = typer.Option(256, help="flow minibatch in a refit"),
    lr_flow: float = typer.Option(1e-3, help="flow Adam learning rate (paper: 1e-3)"),
    weighting: str = typer.Option("none", help="none (the paper) or unbiased (self-normalised p/Q)"),
    mixture: float = typer.Option(0.0, help="alpha: draw z from alpha N(0, I) + (1 - alpha) Q"),
    anchor: bool = typer.Option(
        False, help="weight the augmentation by p/Q so Q cannot drift (not the paper's)"
    ),
    eval_latents: str = typer.Option("flow", help="latents of the in-training FID: flow or gaussian"),
    resume: Resume = False,
    progress: ShowProgress = None,
    device: Device = "auto",
) -> None:
    """Train FIS-GAN: a GAN whose latents come from a flow fitted to Jacobian-norm importance.

    The flow is refitted to the importance density every --refit-every steps; the checkpoint is
    the GAN's plus component "flow"."""
    model, train = model_and_train(locals())
    read = data_options(locals())
    fis = dict(
        norm=norm,
        probes=probes,
        refit_every=refit_every,
        refit_epochs=refit_epochs,
        sigma=sigma,
        n_aug=n_aug,
        flow_batch=flow_batch,
        lr_flow=lr_flow,
        weighting=weighting,
        mixture=mixture,
        anchor=anchor,
        eval_latents=eval_latents,
    )
    flow_cfg = dict(arch=flow, layers=flow_layers, hidden=flow_hidden)
    need_torch("train")
    from ganflow.training.commands import run_fisgan

    meta = run_fisgan(data, out, dataset, model, flow_cfg, train, fis, resume, progress, device, read)
    if is_rank0():
        typer.echo(f"trained fisgan to step {meta['summary']['step']} in {out}  {summary_line(meta)}")
