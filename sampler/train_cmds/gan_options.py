"""The command-line options `train gan` and `train fisgan` share (FIS-GAN is the GAN trainer plus a
latent prior), declared once: a command lists them as `steps: Steps = None` and so on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

Data = Annotated[
    str,
    typer.Option(
        help="gaussians25, gaussians8, swissroll, mnist, fashion-mnist, "
        "or a path to mnist.npz / a folder of IDX files"
    ),
]
Out = Annotated[Path, typer.Option(help="run directory")]
DatasetLabel = Annotated[str, typer.Option(help="label of a --data path: mnist or fashion-mnist")]
Arch = Annotated[str, typer.Option(help="mlp, dcgan, or auto (dcgan for images)")]
Width = Annotated[int, typer.Option(help="MLP hidden units / DCGAN base channels")]
LatentDim = Annotated[int, typer.Option(help="[default: 64 for images, 2 for 2-D data]")]
SpectralNorm = Annotated[bool, typer.Option(help="spectral norm on the critic")]
Loss = Annotated[
    str,
    typer.Option(
        help="bce, wgan-gp, hinge, or an f-GAN divergence: f:kl, f:rkl, f:pearson, f:hellinger, f:js, f:gan"
    ),
]
Steps = Annotated[int, typer.Option(help="generator steps [default: 2000; on --resume: the run's]")]
NCritic = Annotated[int, typer.Option(help="critic steps per generator step [loss default]")]
Resume = Annotated[bool, typer.Option(help="continue the run in --out (to --steps if given)")]
Ema = Annotated[
    float,
    typer.Option(help="decay of the generator's weight average, e.g. 0.999; the average is exported"),
]
ShowProgress = Annotated[bool, typer.Option(help="progress bar [default: when a terminal]")]
Device = Annotated[str, typer.Option(help="auto (CUDA if torch sees a GPU), cuda or cpu")]

MODEL_KEYS = ("arch", "latent_dim", "spectral_norm", "width")
TRAIN_KEYS = ("loss", "steps", "batch_size", "lr_g", "lr_d", "n_critic", "gp_weight", "seed")
TRAIN_KEYS += ("log_every", "eval_every", "sample_every", "ckpt_every", "ema")


def model_and_train(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A command's options (its locals()) -> (default_components kwargs, TrainConfig fields)."""
    model = {k: options[k] for k in MODEL_KEYS}
    train = {k: options[k] for k in TRAIN_KEYS}
    return model, {**train, "betas": (options["beta1"], options["beta2"])}
