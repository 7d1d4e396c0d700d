"""`ganflow train flowgan`: an invertible generator trained by likelihood, adversarially or both."""

from __future__ import annotations

from pathlib import Path

import typer

from ganflow.sampler.cli.train.common import is_rank0, need_torch, summary_line, train_app
from ganflow.sampler.cli.train.options import (
    Data,
    DatasetLabel,
    Device,
    ImageChannels,
    ImageSize,
    Layout,
    Out,
    Resume,
    ShowProgress,
    TestFraction,
    ValueRange,
    data_options,
)


@train_app.command(
    "flowgan",
    epilog="Example: ganflow train flowgan --data ../shared/data/mnist.npz --objective hybrid --lambda 0.1 "
    "--out runs/flowgan-hybrid  (then: ganflow export runs/flowgan-hybrid --out bundles/fg; "
    "ganflow eval bundles/fg --metrics nll,mode,fid)",
)
def train_flowgan_cmd(
    data: Data = ...,
    out: Out = Path("runs/flowgan"),
    dataset: DatasetLabel = None,
    layout: Layout = None,
    value_range: ValueRange = None,
    test_fraction: TestFraction = None,
    image_size: ImageSize = None,
    image_channels: ImageChannels = None,
    objective: str = typer.Option("mle", help="mle, adv (WGAN-GP) or hybrid (adv + lambda NLL)"),
    lam: float = typer.Option(0.1, "--lambda", help="hybrid: weight of the NLL term (nats per image)"),
    arch: str = typer.Option("nice", help="nice, realnvp-mlp or realnvp-conv"),
    hidden: int = typer.Option(None, help="coupling net width (nice: 1000, realnvp-mlp: 256)"),
    depth: int = typer.Option(None, help="hidden layers per coupling net (nice: 6, realnvp-mlp: 2)"),
    couplings: int = typer.Option(None, help="coupling layers (nice: 4, realnvp-mlp: 6)"),
    channels: int = typer.Option(None, help="realnvp-conv: coupling conv width [32]"),
    prior: str = typer.Option(None, help="logistic or gaussian \\[nice: logistic, realnvp: gaussian]"),
    critic_width: int = typer.Option(None, help="critic hidden units / base channels"),
    steps: int = typer.Option(None, help="generator steps \\[default: 2000; on --resume: the run's]"),
    batch_size: int = typer.Option(100),
    lr: float = typer.Option(1e-4, help="generator Adam learning rate"),
    lr_d: float = typer.Option(1e-4, help="critic Adam learning rate"),
    beta1: float = typer.Option(0.5),
    beta2: float = typer.Option(0.9),
    n_critic: int = typer.Option(5, help="critic steps per generator step (adv, hybrid)"),
    gp_weight: float = typer.Option(10.0),
    val_size: int = typer.Option(5000, help="held-out tail of the training split"),
    val_n: int = typer.Option(2000, help="validation examples scored at each evaluation"),
    seed: int = typer.Option(0),
    log_every: int = typer.Option(50),
    eval_every: int = typer.Option(500),
    sample_every: int = typer.Option(500),
    ckpt_every: int = typer.Option(500),
    eval_samples: int = typer.Option(2000, help="generated samples for FID/MODE at each evaluation"),
    resume: Resume = False,
    progress: ShowProgress = None,
    device: Device = "auto",
) -> None:
    """Train a Flow-GAN: a normalizing-flow generator, so its exact test NLL is known.

    The generator is a normalizing flow in data space; the checkpoint with the best validation
    NLL is kept in OUT/best."""
    read = data_options(locals())
    generator = dict(hidden=hidden, depth=depth, couplings=couplings, channels=channels, prior=prior)
    train = dict(
        objective=objective,
        lam=lam,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        lr_d=lr_d,
        betas=(beta1, beta2),
        n_critic=n_critic,
        gp_weight=gp_weight,
        val_size=val_size,
        val_n=val_n,
        seed=seed,
        log_every=log_every,
        eval_every=eval_every,
        sample_every=sample_every,
        ckpt_every=ckpt_every,
        eval_samples=eval_samples,
    )
    need_torch("train")
    from ganflow.training.commands import run_flowgan

    result = run_flowgan(
        data, out, dataset, arch, generator, critic_width, train, resume, progress, device, read
    )
    if not is_rank0():
        return
    best = result["summary"]["best"]
    typer.echo(
        f"trained flowgan-{result['flowgan']['objective']} to step {result['summary']['step']} in {out}  "
        f"{summary_line(result)}  (best val NLL {best['val_nll_nats']:.2f} nats at step {best['step']}: "
        f"{out / 'best'})"
    )
