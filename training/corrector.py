"""DGflow's density-ratio corrector (Ansari et al., ICLR 2021, section 4 / authors' code): a
network C trained so that d = D + C is a logistic real-vs-generated classifier over the frozen
generator G and critic D. Then d estimates log p_data / p_G (the optimum of the logistic loss),
which is what the DGflow step needs; a WGAN-GP or hinge critic D alone is not such an estimate.

Loss (binary cross-entropy on the logit d): E_data softplus(-d(x)) + E_z softplus(d(G(z))).
C starts at zero (its last layer is zeroed), so training starts from d = D.

Checkpoints every `ckpt_every` steps (state.safetensors, then model.safetensors); `resume=True`
continues a killed run from its last checkpoint to the same weights an uninterrupted run gives.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ganflow.models import build_component, config_to_dict, load_modules
from ganflow.sampler.data import Dataset
from ganflow.training.batches import real_examples
from ganflow.training.distributed import BatchRNG
from ganflow.training.run import Cadence, Run


@dataclass(frozen=True)
class CorrectorConfig:
    """C has the critic's architecture (spectral norm off); Adam as the DCGAN defaults."""

    steps: int = 1000
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    seed: int = 0
    log_every: int = 50
    ckpt_every: int = 250

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        for name in ("steps", "batch_size", "log_every", "ckpt_every"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "betas": list(self.betas)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CorrectorConfig:
        unknown = set(d) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown corrector options {sorted(unknown)}")
        return cls(**d)


def corrector_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Logistic loss of d = D + C: d_real [N], d_fake [N] -> scalar; minimised at d = log p/q."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def zero_last_layer(module: torch.nn.Module) -> None:
    """C(x) = 0 at the start: zero the weights and bias of the last linear layer."""
    last = [m for m in module.modules() if isinstance(m, torch.nn.Linear)][-1]
    with torch.no_grad():
        last.weight.zero_()
        if last.bias is not None:
            last.bias.zero_()


def train_corrector(
    run_dir: str | Path,
    data: Dataset,
    base: str | Path | None = None,
    config: CorrectorConfig | None = None,
    device: str = "cpu",
    resume: bool = False,
) -> dict[str, Any]:
    """Train C over the frozen generator and critic of `base` (a run directory or a bundle); write
    a run with generator, critic and corrector (its bundle's refine graph uses d = D + C).

    With `resume`, `run_dir` is a corrector run: its own copies of G and D are used (the base need
    not exist any more), its saved options are kept and only `config.steps` may change."""
    run = Run(run_dir, device, resume)
    if resume:
        config = run.options(CorrectorConfig, "corrector", config)
        base_meta, mods = run.saved, run.saved_modules(("generator", "critic"))
        base_info = base_meta["base"]
    else:
        if base is None:
            raise ValueError("a new corrector run needs a base model (--base)")
        config = config or CorrectorConfig()
        base_meta, mods = load_modules(base)
        base_info = {"path": str(base), "summary": base_meta.get("summary", {})}
    if "generator" not in mods or "critic" not in mods:
        raise ValueError(f"{base} has no generator and critic to correct")
    dist, local = run.dist, run.local_batch(config.batch_size)
    G, D = mods["generator"], mods["critic"]
    for m in (G, D):
        m.eval().requires_grad_(False).to(dist.device)
    torch.manual_seed(config.seed)
    C = build_component("corrector", {**config_to_dict(D), "spectral_norm": False}).to(dist.device)
    zero_last_layer(C)
    opt = torch.optim.Adam(C.parameters(), lr=config.lr, betas=config.betas)
    rng = torch.Generator().manual_seed(config.seed)
    modules = {**mods, "corrector": C}
    run.begin(modules, {"corrector": opt}, {"train": rng}, samples=False)
    stats = run.saved["summary"].get("corrector", {}) if resume else {}
    draw = BatchRNG(rng, dist)
    x_train = real_examples(data.x, dist.device)
    d_latent = G.config.latent_dim
    inherited = {
        k: v for k, v in base_meta.items() if k not in ("components", "summary", "corrector", "base")
    }
    comps = {k: config_to_dict(m) for k, m in modules.items()}
    own = {"components": comps, "data": data.spec.to_dict(), "corrector": config.to_dict(), "base": base_info}
    run.describe({**inherited, **own}, corrector=stats)  # the base's meta, with its ganflow_version
    C.train()
    for _ in run.steps(config.steps, Cadence(log_every=config.log_every, ckpt_every=config.ckpt_every)):
        real = x_train[draw.randint(len(x_train), local)]
        with torch.no_grad():
            fake = G(draw.randn(local, d_latent))
            base_real, base_fake = D(real).reshape(-1), D(fake).reshape(-1)
        d_real = base_real + C(real).reshape(-1)
        d_fake = base_fake + C(fake).reshape(-1)
        loss = corrector_loss(d_real, d_fake)
        run.descend(loss, opt, C)

        due = run.after_step()
        if due.log or due.final:
            acc = 0.5 * ((d_real > 0).float().mean() + (d_fake < 0).float().mean())
            stats = {
                "loss": loss.item(),
                "accuracy": acc.item(),
                "d_real": d_real.mean().item(),
                "d_fake": d_fake.mean().item(),
                "critic_loss": corrector_loss(base_real, base_fake).item(),  # d = D alone
            }
            run.log("train", stats, timed=True)
        if due.checkpoint:
            run.checkpoint({"metrics": {}, "corrector": stats})
    C.eval()
    return run.meta
