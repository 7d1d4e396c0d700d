"""The GAN training loop: read it top to bottom (critic steps, generator step, log, checkpoint)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganflow.models import COMPONENTS, build_component
from ganflow.sampler.data import Dataset, DataSpec
from ganflow.training.batches import real_examples
from ganflow.training.config import TrainConfig
from ganflow.training.distributed import BatchRNG
from ganflow.training.ema import EMA
from ganflow.training.evaluate import TrainingEval, fixed_latents, generate, sample_figure
from ganflow.training.losses import LOSSES
from ganflow.training.prior import GaussianPrior, LatentPrior
from ganflow.training.run import Cadence, Run


def _config_for(component: str, arch: str, values: dict[str, Any]) -> dict[str, Any]:
    """{"arch": arch} plus those `values` that the architecture's config has (None: its default)."""
    names = {f.name for f in dataclasses.fields(COMPONENTS[component].get(arch).Config)}
    cfg = {"arch": arch, **{k: v for k, v in values.items() if k in names and v is not None}}
    build_component(component, cfg)  # validate now (raises ValueError with the reason)
    return cfg


def default_components(
    spec: DataSpec,
    arch: str = "auto",
    latent_dim: int | None = None,
    spectral_norm: bool = False,
    width: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Generator and critic configs for the data: 'auto' is dcgan for images, mlp otherwise.
    `width` is the hidden units of an MLP or the base channels of a DCGAN; the latent dimension is
    64 for images, the data's dimension (2..64) for vectors unless `latent_dim`."""
    image = len(spec.shape) == 3
    arch = ("dcgan" if image else "mlp") if arch == "auto" else arch
    values = {
        "latent_dim": latent_dim or (64 if image else min(64, max(2, math.prod(spec.shape)))),
        "data_shape": list(spec.shape),
        "hidden": width,
        "channels": width,
        "tanh_output": spec.range == (-1.0, 1.0),
        "spectral_norm": spectral_norm,
    }
    return {
        "generator": _config_for("generator", arch, values),
        "critic": _config_for("critic", arch, values),
    }


def train_gan(
    run_dir: str | Path,
    data: Dataset,
    components: dict[str, dict[str, Any]] | None = None,
    config: TrainConfig | None = None,
    resume: bool = False,
    progress: bool | None = None,
    family: str = "gan",
    device: str = "auto",
    prior: LatentPrior | None = None,
) -> dict[str, Any]:
    """Train (or resume) a GAN in `run_dir`; returns the run's meta (configs + summary).

    On resume, the configs come from the run's config.json; `config.steps` may extend the run.
    Under torchrun, each of the K processes takes batch_size / K of every global batch, drawn
    from the same random stream, and gradients are averaged: the run equals a one-process run.
    `prior` (default N(0, I), training/prior.py) draws the latents: FIS-GAN's is a refitted flow."""
    run = Run(run_dir, device, resume)
    components, config = run.configs(components, TrainConfig, "train", config)
    d, local_batch = run.dist, run.local_batch(config.batch_size)

    # --- build everything from the seed -------------------------------------------------------
    torch.manual_seed(config.seed)
    G = build_component("generator", components["generator"]).to(d.device)
    D = build_component("critic", components["critic"]).to(d.device)
    loss = LOSSES.get(config.loss).from_config(config)
    n_critic = config.n_critic or loss.n_critic
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=config.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=config.betas)
    ema = EMA(G, config.ema) if config.ema else None
    G_out = ema.module if ema else G  # the generator that is evaluated, checkpointed and exported
    rng = torch.Generator().manual_seed(config.seed)  # every random draw of the loop
    draw = BatchRNG(rng, d)
    prior = prior or GaussianPrior(G.config.latent_dim)
    z_eval, _ = fixed_latents(config.eval_samples, G.config.latent_dim, config.seed)
    run.begin(
        modules={"generator": G_out, "critic": D, **prior.modules},
        optimizers={"generator": opt_g, "critic": opt_d, **prior.optimizers},
        rngs={"train": rng, **prior.rngs},
        train_only={"generator_train": G} if ema else {},  # the raw G under EMA: resume only
    )
    meta = {"family": family, "components": components, "data": data.spec.to_dict()}
    run.describe({**meta, "train": config.to_dict(), **prior.meta})  # FIS-GAN: + "fisgan" options
    x_train = real_examples(data.x, d.device)
    evaluator, selector = TrainingEval(data), TrainingEval(data, metrics=("fid",), split="train")
    metrics: dict[str, float] = {}

    # --- the loop (G and D are in training mode) ---------------------------------------------
    cadence = Cadence(config.log_every, config.eval_every, config.sample_every, config.ckpt_every)
    for step in run.steps(config.steps, cadence, progress, desc=f"{family} "):
        for _ in range(n_critic):
            real = x_train[draw.randint(len(x_train), local_batch)]
            z, w = prior.sample(local_batch, draw)
            with torch.no_grad():
                fake = G(z)
            loss_d, stats = loss.critic_loss(D, real, fake, draw, w)
            run.descend(loss_d, opt_d, D)

        z, w = prior.sample(local_batch, draw)
        loss_g = loss.generator_loss(D, G(z), w)
        run.descend(loss_g, opt_g, G)
        if ema:
            ema.update()
        prior.update(step, G, z, d)  # FIS-GAN: refit the flow every t steps (Algorithm 1, l. 8-11)

        due = run.after_step({"loss_d": loss_d.item(), "loss_g": loss_g.item(), **stats, **prior.stats})
        if due.eval or due.figure:
            x_eval = generate(G_out, prior.eval_latents(z_eval))
        if due.eval:
            metrics = _evaluate(run, x_eval, evaluator, selector)
        if due.figure:
            run.figure(sample_figure(data.spec, x_eval))
        if due.checkpoint:
            run.checkpoint({"metrics": metrics})
    return run.meta


def _evaluate(run: Run, x: np.ndarray, evaluator: TrainingEval, selector: TrainingEval) -> dict[str, float]:
    """Rank 0: the metrics of samples x [N, *shape] against the test split, logged with the FID on the
    training split, by which run_dir/best keeps the best checkpoint (never by the test split's)."""
    metrics = evaluator(x)
    select = {k: v for k, v in selector(x).items() if k.startswith("fid")}
    run.log("eval", {**metrics, **select})
    if select:
        key, fid = next(iter(select.items()))
        run.keep_best(fid, {"metrics": {**metrics, **select}}, selected_by=key)
    return metrics
