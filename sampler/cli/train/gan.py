"""`ganflow train gan`: GANs with BCE, WGAN-GP, hinge or f-GAN losses."""

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
    "gan",
    epilog="Example: ganflow train gan --data gaussians25 --out runs/g25 --steps 3000  |  "
    "ganflow train gan --data ../shared/data/mnist.npz --loss wgan-gp --out runs/mnist  |  "
    "ganflow train gan --data ring.npy --out runs/ring  |  ganflow train gan --data photos/ --image-size 32",
)
def train_gan_cmd(
    data: Data = ...,
    out: Out = Path("runs/gan"),
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
    lr_g: float = 2e-4,
    lr_d: float = 2e-4,
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
    resume: Resume = False,
    progress: ShowProgress = None,
    device: Device = "auto",
) -> None:
    """Train a GAN (non-saturating, WGAN-GP or hinge loss) and checkpoint it in --out.

    Data parallel on K processes: torchrun --nproc-per-node K -m ganflow.sampler.cli train gan ...
    (gloo on CPU, NCCL on GPUs; the global --batch-size is split across the processes)."""
    model, train = model_and_train(locals())
    read = data_options(locals())
    need_torch("train")
    from ganflow.training.commands import run_gan

    meta = run_gan(data, out, dataset, model, train, resume, progress, device, read)
    if is_rank0():
        step = meta["summary"]["step"]
        typer.echo(f"trained {meta['family']} to step {step} in {out}  {summary_line(meta)}")
