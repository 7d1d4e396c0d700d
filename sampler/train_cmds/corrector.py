"""`ganflow train corrector`: DGflow's density-ratio corrector C over a frozen GAN (d = D + C)."""

from __future__ import annotations

from pathlib import Path

import typer

from ganflow.sampler.errors import InputError
from ganflow.sampler.train_cmds.common import check_out, is_rank0, need_torch, train_app


@train_app.command(
    "corrector",
    epilog="Example: ganflow train corrector --base runs/mnist-wgan --out runs/mnist-wgan-c"
    "  (then: ganflow export runs/mnist-wgan-c --out bundles/w; ganflow sample bundles/w --method dgflow)",
)
def train_corrector_cmd(
    base: Path = typer.Option(None, help="the GAN to correct: a run directory or an exported bundle"),
    out: Path = typer.Option(Path("runs/corrector"), help="run directory (generator, critic, corrector)"),
    data: str = typer.Option(None, help="dataset name or MNIST-layout path [default: the base's dataset]"),
    steps: int = typer.Option(None, help="corrector steps [default: 1000; on --resume: the run's]"),
    batch_size: int = typer.Option(64),
    lr: float = typer.Option(2e-4),
    seed: int = typer.Option(0),
    ckpt_every: int = typer.Option(250, help="checkpoint (and resume point) every this many steps"),
    resume: bool = typer.Option(False, help="continue the run in --out (its own G and D; no --base)"),
    device: str = typer.Option("cpu", help="auto (CUDA if torch sees a GPU), cuda or cpu"),
) -> None:
    """Train C so that d = D + C is a logistic real-vs-generated classifier (an estimate of
    log p_data/p_G, which DGflow needs; a WGAN-GP or hinge critic alone is not one)."""
    need_torch("train")
    from ganflow.models.checkpoint import CheckpointError, load_checkpoint
    from ganflow.training.corrector import CorrectorConfig, train_corrector
    from ganflow.training.data import load_dataset

    try:
        check_out(out, resume)
        if resume:
            meta, _ = load_checkpoint(out)
            cfg = CorrectorConfig.from_dict({**meta["corrector"], **({"steps": steps} if steps else {})})
        elif base is None:
            raise InputError("--base is needed for a new corrector run (or pass --resume to continue --out)")
        else:
            meta, _ = load_checkpoint(base)
            cfg = CorrectorConfig(
                steps=steps or 1000, batch_size=batch_size, lr=lr, seed=seed, ckpt_every=ckpt_every
            )
        ds = load_dataset(data or meta["data"]["dataset"], dataset=meta["data"]["dataset"])
        if ds.spec.to_dict() != meta["data"]:
            raise InputError(f"--data {data} is not the data the base model was trained on ({meta['data']})")
        result = train_corrector(out, ds, base, cfg, device=device, resume=resume)
    except (ValueError, CheckpointError) as e:
        raise InputError(str(e)) from None
    if not is_rank0():
        return
    s = result["summary"]["corrector"]
    typer.echo(
        f"trained corrector for {cfg.steps} steps in {out}: logistic loss {s['loss']:.4g} "
        f"(critic alone {s['critic_loss']:.4g}), accuracy {s['accuracy']:.3f}"
    )
