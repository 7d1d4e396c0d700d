"""`ganflow train gan`: GANs with BCE, WGAN-GP, hinge or f-GAN losses."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ganflow.sampler.errors import InputError
from ganflow.sampler.train_cmds.common import check_out, is_rank0, need_torch, summary_line, train_app
from ganflow.sampler.train_cmds.gan_options import (
    Arch,
    Data,
    DatasetLabel,
    Device,
    Ema,
    LatentDim,
    Loss,
    NCritic,
    Out,
    Resume,
    ShowProgress,
    SpectralNorm,
    Steps,
    Width,
    model_and_train,
)


def train_gan_run(
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
    need_torch("train")
    from ganflow.training import TrainConfig, default_components, train_gan
    from ganflow.training.data import load_dataset

    train = {k: v for k, v in train.items() if v is not None}
    check_out(out, resume)
    if resume:
        meta = json.loads((out / "config.json").read_text())
        ds = load_dataset(data, dataset=dataset, seed=meta["train"]["seed"])
        if ds.spec.to_dict() != meta["data"]:
            raise InputError(f"--resume: --data {data} is not the data of the run in {out}")
        cfg = TrainConfig.from_dict({**meta["train"], "steps": train.get("steps", meta["train"]["steps"])})
        return train_gan(out, ds, config=cfg, resume=True, progress=progress, device=device)
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
    data: Data = ...,
    out: Out = Path("runs/gan"),
    dataset: DatasetLabel = None,
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
    meta = train_gan_run(data, out, dataset, model, train, resume, progress, device)
    if is_rank0():
        step = meta["summary"]["step"]
        typer.echo(f"trained {meta['family']} to step {step} in {out}  {summary_line(meta)}")
