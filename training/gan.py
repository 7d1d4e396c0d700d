"""The GAN training loop: read it top to bottom (critic steps, generator step, log, checkpoint)."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganflow.models import COMPONENTS, build_component, load_checkpoint, save_checkpoint
from ganflow.sampler.fsio import atomic_write_bytes
from ganflow.sampler.version import __version__
from ganflow.training.config import TrainConfig
from ganflow.training.data import Dataset, DataSpec
from ganflow.training.distributed import BatchRNG, setup
from ganflow.training.ema import EMA
from ganflow.training.evaluate import TrainingEval, sample_figure
from ganflow.training.jsonl import JsonlLog
from ganflow.training.losses import LOSSES
from ganflow.training.prior import GaussianPrior
from ganflow.training.progress import Progress
from ganflow.training.state import load_state, save_state

BEST = "best"  # run_dir/best/: the checkpoint with the lowest training-split FID so far


def _best_so_far(run_dir: Path) -> float:
    """The selection FID of run_dir/best (inf when there is none yet): resume keeps the best."""
    try:
        meta = json.loads((run_dir / BEST / "config.json").read_text())
        return float(meta["summary"]["metrics"][meta["selected_by"]])
    except (OSError, KeyError, ValueError):
        return float("inf")


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
    `width` is the hidden units of an MLP or the base channels of a DCGAN."""
    image = len(spec.shape) == 3
    arch = ("dcgan" if image else "mlp") if arch == "auto" else arch
    values = {
        "latent_dim": latent_dim or (64 if image else 2),
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


@torch.no_grad()
def _generate(generator: torch.nn.Module, z: torch.Tensor, batch: int = 1024) -> np.ndarray:
    was_training = generator.training
    generator.eval()
    dev = next(generator.parameters()).device
    x = torch.cat([generator(z[i : i + batch].to(dev)).cpu() for i in range(0, len(z), batch)])
    generator.train(was_training)
    return x.numpy()


def train_gan(
    run_dir: str | Path,
    data: Dataset,
    components: dict[str, dict[str, Any]] | None = None,
    config: TrainConfig | None = None,
    resume: bool = False,
    progress: bool | None = None,
    family: str = "gan",
    device: str = "auto",
    prior: Any = None,
) -> dict[str, Any]:
    """Train (or resume) a GAN in `run_dir`; returns the run's meta (configs + summary).

    On resume, the configs come from the run's config.json; `config.steps` may extend the run.
    Under torchrun, each of the K processes takes batch_size / K of every global batch, drawn
    from the same random stream, and gradients are averaged: the run equals a one-process run.

    `prior` (default N(0, I)) draws the latents; FIS-GAN's flow prior also owns `modules`,
    `optimizers` and `rngs` (checkpointed with the run), `meta` (saved in config.json), an
    `update(step, G, z)` after each generator step and `eval_latents` for the fixed eval draws.
    """
    run_dir = Path(run_dir)
    d = setup(device)
    start = 0
    if resume:
        meta, states = load_checkpoint(run_dir)
        components = meta["components"]
        saved = TrainConfig.from_dict(meta["train"])
        config = TrainConfig.from_dict({**saved.to_dict(), "steps": (config or saved).steps})
    if components is None or config is None:
        raise ValueError("a new run needs components and config")
    if config.batch_size % d.world:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by {d.world} processes")
    local_batch = config.batch_size // d.world

    # --- build everything from the seed -------------------------------------------------------
    torch.manual_seed(config.seed)
    G = build_component("generator", components["generator"])
    D = build_component("critic", components["critic"])
    loss = LOSSES.get(config.loss).from_config(config)
    n_critic = config.n_critic or loss.n_critic
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr_g, betas=config.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=config.betas)
    G.to(d.device)
    D.to(d.device)
    ema = EMA(G, config.ema) if config.ema else None
    G_out = ema.module if ema else G  # the generator that is evaluated, checkpointed and exported
    train_only = {"generator_train": G} if ema else {}  # kept in state.safetensors for resume
    rng = torch.Generator().manual_seed(config.seed)  # every random draw of the loop
    draw = BatchRNG(rng, d)
    prior = prior or GaussianPrior(G.config.latent_dim)
    p_modules, p_opts, p_rngs = (getattr(prior, k, {}) for k in ("modules", "optimizers", "rngs"))
    modules = {"generator": G_out, "critic": D, **p_modules}
    optimizers = {"generator": opt_g, "critic": opt_d, **p_opts}
    rngs = {"train": rng, **p_rngs}
    for m in p_modules.values():
        m.to(d.device)
    # fixed latents for sample grids and evaluation: their own stream, never the loop's
    z_eval = torch.randn(
        config.eval_samples,
        G.config.latent_dim,
        generator=torch.Generator().manual_seed(config.seed + 10_000),
    )
    eval_latents = getattr(prior, "eval_latents", lambda h: h)  # the flow's draws for FIS-GAN
    if resume:
        for name, m in modules.items():
            m.load_state_dict(states[name])
        start = load_state(run_dir, optimizers, rngs, train_only)
        if start != meta["summary"]["step"]:
            raise ValueError(
                f"{run_dir}: state.safetensors is at step {start} but "
                f"model.safetensors at {meta['summary']['step']}; delete one to resume"
            )
    d.sync_parameters(G, D, G_out)
    if d.main:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "samples").mkdir(exist_ok=True)
        log = JsonlLog(run_dir / "metrics.jsonl", resume_step=start)
    x_train = torch.from_numpy(data.x).to(d.device)
    meta = {
        "ganflow_version": __version__,
        "family": family,
        "components": components,
        "data": data.spec.to_dict(),
        "train": config.to_dict(),
        **getattr(prior, "meta", {}),
        "summary": {"step": start, "metrics": {}},
    }

    def checkpoint(step: int, metrics: dict[str, float]) -> None:
        meta["summary"] = {"step": step, "metrics": metrics}
        save_state(run_dir, step, optimizers, rngs, train_only)
        save_checkpoint(run_dir, modules, meta)

    # the best checkpoint by FID against the *training* split (never the test split it reports)
    selector, best = TrainingEval(data, metrics=("fid",), split="train"), _best_so_far(run_dir)

    # --- the loop -------------------------------------------------------------------------------
    evaluator = TrainingEval(data)
    bar = Progress(config.steps, start, enabled=progress if d.main else False, desc=f"{family} ")
    t0, last_metrics = time.perf_counter(), {}
    G.train()
    D.train()
    for step in range(start, config.steps):
        for _ in range(n_critic):
            real = x_train[draw.randint(len(x_train), local_batch)]
            z, w = prior.sample(local_batch, draw)
            with torch.no_grad():
                fake = G(z)
            loss_d, stats = loss.critic_loss(D, real, fake, draw, w)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            d.average_gradients(D)
            opt_d.step()

        z, w = prior.sample(local_batch, draw)
        loss_g = loss.generator_loss(D, G(z), w)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        d.average_gradients(G)
        opt_g.step()
        if ema:
            ema.update()
        if hasattr(prior, "update"):  # FIS-GAN: refit the flow every t steps (Algorithm 1, l. 8-11)
            prior.update(step, G, z, d)

        done = step + 1
        if not d.main:  # rank 0 logs, evaluates and checkpoints; the others wait for it
            if done % config.ckpt_every == 0 or done == config.steps:
                d.barrier()
            continue
        stats = {"loss_d": loss_d.item(), "loss_g": loss_g.item(), **stats, **getattr(prior, "stats", {})}
        bar.update(done, stats)
        if done % config.log_every == 0:
            log.write({"step": done, "kind": "train", "time_s": time.perf_counter() - t0, **stats})
        final = done == config.steps
        evaluate, figure = done % config.eval_every == 0 or final, done % config.sample_every == 0 or final
        x_eval = _generate(G_out, eval_latents(z_eval)) if evaluate or figure else None
        if evaluate:
            last_metrics = evaluator(x_eval)
            select = {k: v for k, v in selector(x_eval).items() if k.startswith("fid")}
            log.write({"step": done, "kind": "eval", **last_metrics, **select})
            if select and next(iter(select.values())) < best:
                best = next(iter(select.values()))
                meta["summary"] = {"step": done, "metrics": {**last_metrics, **select}}
                save_checkpoint(run_dir / BEST, modules, {**meta, "selected_by": next(iter(select))})
        if figure:
            atomic_write_bytes(
                run_dir / "samples" / f"step_{done:06d}.png", sample_figure(data.spec, x_eval), parents=True
            )
        if done % config.ckpt_every == 0 or final:
            checkpoint(done, last_metrics)
            d.barrier()
    bar.update(config.steps, force=True)
    bar.close()
    return meta
