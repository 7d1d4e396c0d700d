"""`ganflow train gan`: GANs with BCE, WGAN-GP, hinge or f-GAN losses."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ganflow.sampler.errors import InputError
from ganflow.sampler.train_cmds.common import check_out, is_rank0, need_torch, summary_line, train_app


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
    meta = train_gan_run(data, out, dataset, model, train, resume, progress, device)
    if is_rank0():
        step = meta["summary"]["step"]
        typer.echo(f"trained {meta['family']} to step {step} in {out}  {summary_line(meta)}")
