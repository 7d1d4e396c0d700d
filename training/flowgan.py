"""Flow-GAN training (Grover et al. 2018): an invertible generator trained by MLE, adversarially or both.

Objectives (slides, "Hybrid Objective"): min_G max_D V(G, D) - lambda E_data[log p_G(x)], with V the
WGAN-GP value (5 critic steps, penalty 10, REFERENCES.md). OBJECTIVES maps a name to the weights of
the two generator terms: mle (0, 1), adv (1, 0), hybrid (1, lambda). The NLL term is nats per image
of the paper's continuous density on [0, 1]^D; real images are dequantised y = (255 u + U) / 256,
for the likelihood and for the critic alike. The validation NLL (a held-out tail of the training
split, fixed dequantisation noise) is tracked, and the best checkpoint is kept in RUN/best.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganflow.models import build_component, load_checkpoint, save_checkpoint
from ganflow.models.flowgan import dequantize
from ganflow.sampler.fsio import atomic_write_bytes
from ganflow.sampler.version import __version__
from ganflow.training.data import Dataset
from ganflow.training.distributed import BatchRNG, setup
from ganflow.training.evaluate import TrainingEval, sample_figure
from ganflow.training.gan import _generate, default_components
from ganflow.training.jsonl import JsonlLog
from ganflow.training.losses.wgan_gp import gradient_penalty
from ganflow.training.progress import Progress
from ganflow.training.state import load_state, save_state

# objective -> (weight of the adversarial term, weight of the NLL term) given lambda
OBJECTIVES: dict[str, Any] = {
    "mle": lambda lam: (0.0, 1.0),
    "adv": lambda lam: (1.0, 0.0),
    "hybrid": lambda lam: (1.0, lam),
}


@dataclass(frozen=True)
class FlowGANTrainConfig:
    """Defaults: the authors' MNIST settings (Adam 1e-4, betas (0.5, 0.9), batch 100, lambda 0.1)."""

    objective: str = "mle"
    lam: float = 0.1  # hybrid: weight of the NLL term
    steps: int = 2000
    batch_size: int = 100
    lr: float = 1e-4
    lr_d: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.9)
    n_critic: int = 5
    gp_weight: float = 10.0
    val_size: int = 5000  # the last examples of the training split, never trained on
    val_n: int = 2000  # of which the validation NLL uses the first val_n
    seed: int = 0
    log_every: int = 50
    eval_every: int = 500
    sample_every: int = 500
    ckpt_every: int = 500
    eval_samples: int = 2000

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {self.objective!r}; choose one of: {', '.join(OBJECTIVES)}")
        positive = ("steps", "batch_size", "n_critic", "val_size", "val_n", "log_every", "eval_every")
        for name in (*positive, "sample_every", "ckpt_every", "eval_samples"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.lam < 0 or self.gp_weight < 0 or min(self.lr, self.lr_d) <= 0:
            raise ValueError("lambda and gp_weight must be >= 0, learning rates > 0")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas}")

    @property
    def weights(self) -> tuple[float, float]:
        return OBJECTIVES[self.objective](self.lam)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "betas": list(self.betas)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FlowGANTrainConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown Flow-GAN trainer options {sorted(unknown)}")
        return cls(**d)


def flowgan_components(
    spec, arch: str = "nice", generator: dict[str, Any] | None = None, critic_width: int | None = None
) -> dict[str, dict[str, Any]]:
    """Generator config (latent_dim = prod(shape), the data's range) and a WGAN-GP critic config
    (dcgan for images, mlp otherwise: training/gan.py's default_components)."""
    gen = {"arch": arch, "data_shape": list(spec.shape), "data_range": spec.range, **(generator or {})}
    build_component("generator", gen)  # validate now (ValueError with the reason)
    critic = default_components(spec, width=critic_width)["critic"]
    return {"generator": gen, "critic": critic}


def nll_nats(G, x: torch.Tensor) -> torch.Tensor:
    """-log p(y) [N] in nats per example, y the data mapped to [0, 1] (the paper's convention):
    log p(y) = log p(x) + D log(hi - lo) for x = lo + (hi - lo) y."""
    r = G.config.data_range
    shift = 0.0 if r is None else G.config.data_size * math.log(r[1] - r[0])
    return -(G.log_prob(x) + shift)


def bits_per_dim(nats: float, dim: int, quantised: bool) -> float:
    """Discrete-data bits/dim: (NLL + D ln 256) / (D ln 2) for 256-level data (dequantised)."""
    return (nats + (dim * math.log(256.0) if quantised else 0.0)) / (dim * math.log(2.0))


@torch.no_grad()
def validation_nll(G, x_val: torch.Tensor, batch: int = 500) -> float:
    """Mean NLL (nats per example) of x_val [M, *shape] (already dequantised)."""
    was = G.training
    G.eval()
    total = sum(nll_nats(G, x_val[i : i + batch]).sum().item() for i in range(0, len(x_val), batch))
    G.train(was)
    return total / len(x_val)


def train_flowgan(
    run_dir: str | Path,
    data: Dataset,
    components: dict[str, dict[str, Any]] | None = None,
    config: FlowGANTrainConfig | None = None,
    resume: bool = False,
    progress: bool | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Train (or resume) a Flow-GAN in `run_dir`; returns the run's meta. Data parallel under
    torchrun like `train_gan`: each rank draws its slice of the global batch, gradients are
    averaged, rank 0 evaluates and checkpoints."""
    run_dir = Path(run_dir)
    d = setup(device)
    if resume:
        meta, states = load_checkpoint(run_dir)
        components = meta["components"]
        saved = FlowGANTrainConfig.from_dict(meta["flowgan"])
        config = FlowGANTrainConfig.from_dict({**saved.to_dict(), "steps": (config or saved).steps})
    if components is None or config is None:
        raise ValueError("a new run needs components and config")
    w_adv, w_nll = config.weights
    if w_adv == 0:  # MLE trains no critic: the run (and its bundle) holds the generator only
        components = {"generator": components["generator"]}
    if config.batch_size % d.world:
        raise ValueError(f"batch_size {config.batch_size} is not divisible by {d.world} processes")
    local = config.batch_size // d.world
    if len(data.x) <= config.val_size:
        raise ValueError(f"the data has {len(data.x)} examples: not enough for val_size {config.val_size}")

    torch.manual_seed(config.seed)
    modules = {name: build_component(name, cfg).to(d.device) for name, cfg in components.items()}
    G, D = modules["generator"], modules.get("critic")
    lrs = {"generator": config.lr, "critic": config.lr_d}
    opts = {k: torch.optim.Adam(m.parameters(), lr=lrs[k], betas=config.betas) for k, m in modules.items()}
    opt_g, opt_d = opts["generator"], opts.get("critic")
    rng = torch.Generator().manual_seed(config.seed)
    draw = BatchRNG(rng, d)
    dim, r = G.config.data_size, G.config.data_range
    quantised = r is not None

    def real_batch(x: torch.Tensor) -> torch.Tensor:
        return dequantize(x, draw.rand(*x.shape), r) if quantised else x

    x_all = torch.from_numpy(data.x)
    x_train, x_val = x_all[: -config.val_size].to(d.device), x_all[-config.val_size :][: config.val_n]
    fixed = torch.Generator().manual_seed(config.seed + 20_000)  # validation noise: its own stream
    if quantised:
        x_val = dequantize(x_val, torch.rand(x_val.shape, generator=fixed), r)
    x_val = x_val.to(d.device)
    z_eval = torch.randn(
        config.eval_samples,
        G.config.latent_dim,
        generator=torch.Generator().manual_seed(config.seed + 10_000),
    )
    start, best = 0, {"val_nll_nats": math.inf, "step": 0}
    if resume:
        for name, module in modules.items():
            module.load_state_dict(states[name])
        start = load_state(run_dir, opts, {"train": rng})
        best = meta["summary"].get("best", best)
    d.sync_parameters(*modules.values())
    if d.main:
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)
        log = JsonlLog(run_dir / "metrics.jsonl", resume_step=start)
    meta = {
        "ganflow_version": __version__,
        "family": "flowgan",
        "components": components,
        "data": data.spec.to_dict(),
        "flowgan": config.to_dict(),
        "train": {  # the model card's view of the run (export/card.py)
            "loss": config.objective if w_adv == 0 else f"{config.objective} (wgan-gp, lambda {config.lam})",
            "batch_size": config.batch_size,
            "lr_g": config.lr,
            "lr_d": config.lr_d,
            "betas": list(config.betas),
            "seed": config.seed,
        },
        "summary": {"step": start, "metrics": {}, "best": best},
    }

    def checkpoint(where: Path, step: int, metrics: dict[str, float], state: bool) -> None:
        meta["summary"] = {"step": step, "metrics": metrics, "best": best}
        if state:
            save_state(where, step, opts, {"train": rng})
        save_checkpoint(where, modules, meta)

    evaluator = TrainingEval(data)
    bar = Progress(
        config.steps, start, enabled=progress if d.main else False, desc=f"flowgan-{config.objective} "
    )
    t0, last = time.perf_counter(), {}
    for module in modules.values():
        module.train()
    for step in range(start, config.steps):
        stats: dict[str, float] = {}
        if w_adv > 0:  # WGAN-GP critic steps (Gulrajani et al. 2017, Algorithm 1)
            for _ in range(config.n_critic):
                real = real_batch(x_train[draw.randint(len(x_train), local)])
                with torch.no_grad():
                    fake = G(draw.randn(local, dim))
                w_dist = D(real).mean() - D(fake).mean()
                loss_d = -w_dist + config.gp_weight * gradient_penalty(D, real, fake, draw)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                d.average_gradients(D)
                opt_d.step()
            stats.update(loss_d=loss_d.item(), wasserstein=w_dist.item())

        loss_g = torch.zeros((), device=d.device)
        if w_adv > 0:
            adv = -D(G(draw.randn(local, dim))).mean()
            loss_g = loss_g + w_adv * adv
            stats["adv"] = adv.item()
        if w_nll > 0:
            nll = nll_nats(G, real_batch(x_train[draw.randint(len(x_train), local)])).mean()
            loss_g = loss_g + w_nll * nll
            stats["nll_nats"] = nll.item()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        d.average_gradients(G)
        opt_g.step()
        stats["loss_g"] = loss_g.item()

        done = step + 1
        final = done == config.steps
        if not d.main:  # rank 0 logs, evaluates and checkpoints; the others wait for it
            if done % config.ckpt_every == 0 or final:
                d.barrier()
            continue
        bar.update(done, stats)
        if done % config.log_every == 0:
            log.write({"step": done, "kind": "train", "time_s": time.perf_counter() - t0, **stats})
        evaluate, figure = done % config.eval_every == 0 or final, done % config.sample_every == 0 or final
        x_eval = _generate(G, z_eval) if evaluate or figure else None
        if evaluate:
            val = validation_nll(G, x_val)
            last = {
                "val_nll_nats": val,
                "val_nll_bpd": bits_per_dim(val, dim, quantised),
                **evaluator(np.clip(x_eval, *r) if quantised else x_eval),
            }
            log.write({"step": done, "kind": "eval", "time_s": time.perf_counter() - t0, **last})
            if math.isfinite(val) and val < best["val_nll_nats"]:
                best = {"val_nll_nats": val, "step": done}
                checkpoint(run_dir / "best", done, last, state=False)
        if figure:
            atomic_write_bytes(
                run_dir / "samples" / f"step_{done:06d}.png", sample_figure(data.spec, x_eval), parents=True
            )
        if done % config.ckpt_every == 0 or final:
            checkpoint(run_dir, done, last, state=True)
            d.barrier()
    bar.update(config.steps, force=True)
    bar.close()
    return meta
