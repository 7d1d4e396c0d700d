"""DGflow's density-ratio corrector (Ansari et al., ICLR 2021, section 4 / authors' code): a
network C trained so that d = D + C is a logistic real-vs-generated classifier over the frozen
generator G and critic D. Then d estimates log p_data / p_G (the optimum of the logistic loss),
which is what the DGflow step needs; a WGAN-GP or hinge critic D alone is not such an estimate.

Loss (binary cross-entropy on the logit d): E_data softplus(-d(x)) + E_z softplus(d(G(z))).
C starts at zero (its last layer is zeroed), so training starts from d = D.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ganflow.models import build_component, config_to_dict, load_modules, save_checkpoint
from ganflow.training.data import Dataset
from ganflow.training.distributed import BatchRNG, setup
from ganflow.training.jsonl import JsonlLog


@dataclass(frozen=True)
class CorrectorConfig:
    """C has the critic's architecture (spectral norm off); Adam as the DCGAN defaults."""

    steps: int = 1000
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    seed: int = 0
    log_every: int = 50

    def __post_init__(self) -> None:
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        for name in ("steps", "batch_size", "log_every"):
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
    base: str | Path,
    config: CorrectorConfig | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Train C over the frozen generator and critic of `base` (a run directory or a bundle); write
    a run with generator, critic and corrector (its bundle's refine graph uses d = D + C)."""
    config = config or CorrectorConfig()
    run_dir = Path(run_dir)
    dist = setup(device)
    base_meta, mods = load_modules(base)
    if "generator" not in mods or "critic" not in mods:
        raise ValueError(f"{base} has no generator and critic to correct")
    G, D = mods["generator"], mods["critic"]
    for m in (G, D):
        m.eval().requires_grad_(False).to(dist.device)
    torch.manual_seed(config.seed)
    C = build_component("corrector", {**config_to_dict(D), "spectral_norm": False}).to(dist.device)
    zero_last_layer(C)
    opt = torch.optim.Adam(C.parameters(), lr=config.lr, betas=config.betas)
    draw = BatchRNG(torch.Generator().manual_seed(config.seed), dist)
    x_train = torch.from_numpy(data.x).to(dist.device)
    d_latent = G.config.latent_dim
    run_dir.mkdir(parents=True, exist_ok=True)
    log = JsonlLog(run_dir / "metrics.jsonl")
    t0, stats = time.perf_counter(), {}
    C.train()
    for step in range(config.steps):
        real = x_train[draw.randint(len(x_train), config.batch_size)]
        with torch.no_grad():
            fake = G(draw.randn(config.batch_size, d_latent))
            base_real, base_fake = D(real).reshape(-1), D(fake).reshape(-1)
        d_real = base_real + C(real).reshape(-1)
        d_fake = base_fake + C(fake).reshape(-1)
        loss = corrector_loss(d_real, d_fake)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % config.log_every == 0 or step + 1 == config.steps:
            acc = 0.5 * ((d_real > 0).float().mean() + (d_fake < 0).float().mean())
            stats = {
                "loss": loss.item(),
                "accuracy": acc.item(),
                "d_real": d_real.mean().item(),
                "d_fake": d_fake.mean().item(),
                "critic_loss": corrector_loss(base_real, base_fake).item(),  # d = D alone
            }
            log.write({"step": step + 1, "kind": "train", "time_s": time.perf_counter() - t0, **stats})
    modules = {**mods, "corrector": C.eval()}
    meta = {
        **{k: v for k, v in base_meta.items() if k not in ("components", "summary")},
        "components": {k: config_to_dict(m) for k, m in modules.items()},
        "data": data.spec.to_dict(),
        "corrector": config.to_dict(),
        "base": {"path": str(base), "summary": base_meta.get("summary", {})},
        "summary": {"step": base_meta.get("summary", {}).get("step"), "metrics": {}, "corrector": stats},
    }
    save_checkpoint(run_dir, {k: m.cpu() for k, m in modules.items()}, meta)
    return meta
