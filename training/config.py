"""The trainer's frozen, validated configuration."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a GAN run besides the architectures and the data."""

    loss: str = "bce"
    steps: int = 2000
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int | None = None  # None: the loss's default (5 for wgan-gp, else 1)
    gp_weight: float = 10.0
    seed: int = 0
    log_every: int = 50
    eval_every: int = 500
    sample_every: int = 500
    ckpt_every: int = 500
    eval_samples: int = 2000
    ema: float | None = None  # decay of the generator's weight average (e.g. 0.999); None: no EMA

    def __post_init__(self) -> None:
        from ganflow.training.losses import LOSSES

        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of: {', '.join(LOSSES.names())}")
        for name in (
            "steps",
            "batch_size",
            "log_every",
            "eval_every",
            "sample_every",
            "ckpt_every",
            "eval_samples",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.n_critic is not None and self.n_critic <= 0:
            raise ValueError(f"n_critic must be > 0, got {self.n_critic}")
        if self.lr_g <= 0 or self.lr_d <= 0:
            raise ValueError("learning rates must be > 0")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {self.betas}")
        if self.ema is not None and not 0.0 < self.ema < 1.0:
            raise ValueError(f"ema must be a decay in (0, 1), got {self.ema}")
        if self.gp_weight < 0:
            raise ValueError("gp_weight must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown trainer options {sorted(unknown)}")
        return cls(**d)
