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
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganflow.models import build_component
from ganflow.models.flowgan import dequantize
from ganflow.sampler.data import Dataset
from ganflow.training.batches import LazyExamples, real_examples
from ganflow.training.distributed import BatchRNG
from ganflow.training.evaluate import TrainingEval, fixed_latents, generate, sample_figure
from ganflow.training.gan import default_components
from ganflow.training.losses.wgan_gp import gradient_penalty
from ganflow.training.run import Cadence, Run

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
    run = Run(run_dir, device, resume)
    components, config = run.configs(components, FlowGANTrainConfig, "flowgan", config)
    w_adv, w_nll = config.weights
    if w_adv == 0:  # MLE trains no critic: the run (and its bundle) holds the generator only
        components = {"generator": components["generator"]}
    d, local = run.dist, run.local_batch(config.batch_size)
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
    dim, r = G.config.data_size, G.config.data_range  # r: the range of 256-level data, else None
    x_train, x_val = _split(data, config, r, d.device)
    z_eval, _ = fixed_latents(config.eval_samples, G.config.latent_dim, config.seed)
    run.begin(modules, opts, {"train": rng}, best_by="val_nll_nats")
    meta = {"family": "flowgan", "components": components, "data": data.spec.to_dict()}
    run.describe({**meta, "flowgan": config.to_dict(), "train": _card(config)}, best=_best(run))
    evaluator = TrainingEval(data)
    metrics: dict[str, float] = {}

    cadence = Cadence(config.log_every, config.eval_every, config.sample_every, config.ckpt_every)
    for _ in run.steps(config.steps, cadence, progress, desc=f"flowgan-{config.objective} "):
        stats: dict[str, float] = {}
        if w_adv > 0:  # WGAN-GP critic steps (Gulrajani et al. 2017, Algorithm 1)
            for _ in range(config.n_critic):
                real = _real(x_train[draw.randint(len(x_train), local)], draw, r)
                with torch.no_grad():
                    fake = G(draw.randn(local, dim))
                w_dist = D(real).mean() - D(fake).mean()
                loss_d = -w_dist + config.gp_weight * gradient_penalty(D, real, fake, draw)
                run.descend(loss_d, opt_d, D)
            stats.update(loss_d=loss_d.item(), wasserstein=w_dist.item())

        loss_g = torch.zeros((), device=d.device)
        if w_adv > 0:
            adv = -D(G(draw.randn(local, dim))).mean()
            loss_g = loss_g + w_adv * adv
            stats["adv"] = adv.item()
        if w_nll > 0:
            nll = nll_nats(G, _real(x_train[draw.randint(len(x_train), local)], draw, r)).mean()
            loss_g = loss_g + w_nll * nll
            stats["nll_nats"] = nll.item()
        run.descend(loss_g, opt_g, G)
        stats["loss_g"] = loss_g.item()

        due = run.after_step(stats)
        if due.eval or due.figure:
            x_eval = generate(G, z_eval)
        if due.eval:
            metrics = _evaluate(run, G, x_val, x_eval, evaluator)
        if due.figure:
            run.figure(sample_figure(data.spec, x_eval))
        if due.checkpoint:
            run.checkpoint({"metrics": metrics, "best": _best(run)})
    return run.meta


def _real(x: torch.Tensor, draw: BatchRNG, r: tuple[float, float] | None) -> torch.Tensor:
    """A real batch x [n, *shape] as the model sees it: dequantised (fresh noise) for 256-level data."""
    return x if r is None else dequantize(x, draw.rand(*x.shape), r)


def _evaluate(
    run: Run, G: torch.nn.Module, x_val: torch.Tensor, x: np.ndarray, evaluator: TrainingEval
) -> dict[str, float]:
    """Rank 0: the validation NLL (both units) and the metrics of samples x [N, *shape], logged;
    run_dir/best keeps the checkpoint of the lowest validation NLL."""
    val, r = validation_nll(G, x_val), G.config.data_range
    metrics = {
        "val_nll_nats": val,
        "val_nll_bpd": bits_per_dim(val, G.config.data_size, r is not None),
        **evaluator(x if r is None else np.clip(x, *r)),
    }
    run.log("eval", metrics, timed=True)
    run.keep_best(val, {"metrics": metrics, "best": {"val_nll_nats": val, "step": run.step}})
    return metrics


def _split(
    data: Dataset, config: FlowGANTrainConfig, r: tuple[float, float] | None, device: torch.device
) -> tuple[torch.Tensor | LazyExamples, torch.Tensor]:
    """(x_train [N - val_size, *shape] to draw batches from on `device`, x_val [val_n, *shape]): the
    validation examples are the tail of the training split, dequantised once with fixed noise (their
    own stream)."""
    first_val = len(data.x) - config.val_size
    x_train = real_examples(data.x, device, slice(None, first_val))
    x_val = torch.from_numpy(np.asarray(data.x[first_val : first_val + config.val_n]))
    if r is not None:
        fixed = torch.Generator().manual_seed(config.seed + 20_000)
        x_val = dequantize(x_val, torch.rand(x_val.shape, generator=fixed), r)
    return x_train, x_val.to(device)


def _card(config: FlowGANTrainConfig) -> dict[str, Any]:
    """meta["train"]: the model card's summary of the options (export/card.py)."""
    adv = config.weights[0] > 0
    return {
        "loss": f"{config.objective} (wgan-gp, lambda {config.lam})" if adv else config.objective,
        "batch_size": config.batch_size,
        "lr_g": config.lr,
        "lr_d": config.lr_d,
        "betas": list(config.betas),
        "seed": config.seed,
    }


def _best(run: Run) -> dict[str, float]:
    """The summary's record of the lowest validation NLL so far."""
    return {"val_nll_nats": run.best, "step": run.best_step}
