"""Command-line options the `train` commands share, declared once: a command lists them as
`steps: Steps = None` and so on. `train gan` and `train fisgan` share most (FIS-GAN is the GAN
trainer plus a latent prior); the run-folder, progress and device options serve every trainer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ganflow.sampler.data import DataOptions

DATA_HELP = (
    "gaussians25, gaussians8, swissroll, mnist, fashion-mnist, MNIST files (mnist.npz, a folder of IDX "
    "files), or your own data: an .npy/.npz of vectors [N, D] or images, or a folder of PNG/JPEG images"
)
Data = Annotated[str, typer.Option(help=DATA_HELP)]


def remember_run(out: Path) -> Path:
    """--out's callback: on Ctrl-C, say what the run folder keeps (its last checkpoint)."""
    from ganflow.sampler.cli.report import on_interrupt, run_folder_note

    on_interrupt(run_folder_note(Path(out)))
    return out


Out = Annotated[Path, typer.Option(help="run directory", callback=remember_run)]
DatasetLabel = Annotated[
    str,
    typer.Option(
        help="name of --data in metric names: mnist or fashion-mnist for MNIST files \\[your data: its name]"
    ),
]
Arch = Annotated[str, typer.Option(help="mlp, dcgan, or auto (dcgan for images)")]
Width = Annotated[int, typer.Option(help="MLP hidden units / DCGAN base channels")]
LatentDim = Annotated[int, typer.Option(help="\\[default: 64 for images, the dimension (2..64) of vectors]")]
SpectralNorm = Annotated[bool, typer.Option(help="spectral norm on the critic")]
Loss = Annotated[
    str,
    typer.Option(
        help="bce, wgan-gp, hinge, or an f-GAN divergence: f:kl, f:rkl, f:pearson, f:hellinger, f:js, f:gan"
    ),
]
Steps = Annotated[int, typer.Option(help="generator steps \\[default: 2000; on --resume: the run's]")]
NCritic = Annotated[int, typer.Option(help="critic steps per generator step \\[loss default]")]
Resume = Annotated[bool, typer.Option(help="continue the run in --out (to --steps if given)")]
Ema = Annotated[
    float,
    typer.Option(help="decay of the generator's weight average, e.g. 0.999; the average is exported"),
]
ShowProgress = Annotated[
    bool,
    typer.Option(
        help="progress on stderr \\[default: a bar on a terminal, else a line per 30 s or 10% of the steps, "
        "whichever is rarer]"
    ),
]
Device = Annotated[str, typer.Option(help="auto (CUDA if torch sees a GPU), cuda or cpu")]

# how to read your own data (DataOptions); on --resume and in eval of a bundle: the run's
Layout = Annotated[str, typer.Option(help="array files: vector, nhw, nhwc or nchw \\[default: inferred]")]
ValueRange = Annotated[
    str,
    typer.Option(
        "--range",
        help="array files: the values' range, -1,1 / 0,1 / 0,255 / none; images are scaled from it to "
        "[-1, 1], vectors keep their values \\[default: inferred; vectors: none]",
    ),
]
TestFraction = Annotated[
    float, typer.Option(help="your own data without a test array: the share held out (seeded) \\[0.1]")
]
ImageSize = Annotated[
    int, typer.Option(help="image folders: resize and center-crop to S x S \\[default: the images' one size]")
]
CHANNELS_HELP = "image folders: 1 (grey) or 3 (RGB) \\[default: the first image's]"
Channels = Annotated[int, typer.Option("--channels", "--image-channels", help=CHANNELS_HELP)]
# `train flowgan`, whose --channels is the coupling conv width
ImageChannels = Annotated[int, typer.Option("--image-channels", help=CHANNELS_HELP)]

MODEL_KEYS = ("arch", "latent_dim", "spectral_norm", "width")
TRAIN_KEYS = ("loss", "steps", "batch_size", "lr_g", "lr_d", "n_critic", "gp_weight", "seed")
TRAIN_KEYS += ("log_every", "eval_every", "sample_every", "ckpt_every", "ema")


def model_and_train(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A command's options (its locals()) -> (default_components kwargs, TrainConfig fields)."""
    model = {k: options[k] for k in MODEL_KEYS}
    train = {k: options[k] for k in TRAIN_KEYS}
    return model, {**train, "betas": (options["beta1"], options["beta2"])}


def data_options(options: dict[str, Any]) -> DataOptions:
    """A command's options (its locals()) -> how to read its --data (None: inferred, or the run's)."""
    keys = ("layout", "value_range", "test_fraction", "image_size", "image_channels")
    layout, value_range, test_fraction, image_size, channels = (options.get(k) for k in keys)
    return DataOptions(layout, value_range, test_fraction, image_size=image_size, channels=channels)
