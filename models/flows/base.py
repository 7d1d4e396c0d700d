"""Flow contract: z (latent) <-> h (standard normal base), with log|det| of each direction.

A flow F maps a latent z to a base variable h = F(z) ~ N(0, I) (FIS-GAN eq. 3):
  forward(z) -> (h, log|det dF/dz|)      inverse(h) -> (z, log|det dF^-1/dh|)
  log Q(z) = log N(F(z); 0, I) + log|det dF/dz|        sample(n) = F^-1(h), h ~ N(0, I)
Every flow's output layers start at zero, so a new flow is the identity and Q = N(0, I).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


def std_normal_log_prob(h: torch.Tensor) -> torch.Tensor:
    """h [N, d] -> log N(h; 0, I) [N]."""
    return -0.5 * (h * h).sum(dim=1) - 0.5 * h.shape[1] * math.log(2 * math.pi)


class Flow(nn.Module):
    """Base class: subclasses implement forward and inverse; log_prob and sample follow."""

    config: object

    @property
    def dim(self) -> int:
        return self.config.latent_dim

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z [N, d] -> (h [N, d], log|det dh/dz| [N])."""
        raise NotImplementedError

    def inverse(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h [N, d] -> (z [N, d], log|det dz/dh| [N])."""
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, d] -> log Q(z) [N] (eq. 3)."""
        h, logdet = self.forward(z)
        return std_normal_log_prob(h) + logdet

    def sample_from(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Base draws h [N, d] -> (z [N, d], log Q(z) [N]), in one inverse pass."""
        z, logdet = self.inverse(h)
        return z, std_normal_log_prob(h) - logdet

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n draws z ~ Q: (z [n, d], log Q(z) [n])."""
        p = next(self.parameters())
        h = torch.randn(n, self.dim, generator=generator, dtype=p.dtype).to(p.device)
        return self.sample_from(h)


def mlp(d_in: int, hidden: int, d_out: int, depth: int = 2) -> nn.Sequential:
    """`depth` tanh-free ReLU layers, output layer zero-initialised (identity flow at start)."""
    layers: list[nn.Module] = []
    width = d_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    out = nn.Linear(width, d_out)
    nn.init.zeros_(out.weight)
    nn.init.zeros_(out.bias)
    return nn.Sequential(*layers, out)


def soft_scale(s: torch.Tensor, bound: float) -> torch.Tensor:
    """log-scale bounded to (-bound, bound) by bound * tanh(s / bound): keeps exp(s) finite."""
    return bound * torch.tanh(s / bound)


@dataclass(frozen=True)
class FlowConfig:
    """A flow over z [N, latent_dim]: `layers` transforms, each conditioned by an MLP/MADE of
    `depth` ReLU layers of `hidden` units; log-scales bounded to (-scale_bound, scale_bound)."""

    latent_dim: int
    layers: int = 4
    hidden: int = 128
    depth: int = 2
    scale_bound: float = 3.0

    def __post_init__(self) -> None:
        if self.latent_dim < 2:
            raise ValueError(f"flows need latent_dim >= 2, got {self.latent_dim}")
        if self.layers < 1 or self.hidden < 1 or self.depth < 1:
            raise ValueError("layers, hidden and depth must be >= 1")
        if not self.scale_bound > 0:
            raise ValueError(f"scale_bound must be > 0, got {self.scale_bound}")
