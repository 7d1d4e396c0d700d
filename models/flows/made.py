"""MADE (Germain et al. 2015): a masked MLP whose output i depends only on inputs < i (MAF, IAF)."""

from __future__ import annotations

import torch
from torch import nn

from ganflow.models.flows.base import Flow, FlowConfig, soft_scale


class MaskedLinear(nn.Linear):
    def __init__(self, d_in: int, d_out: int, mask: torch.Tensor) -> None:
        super().__init__(d_in, d_out)
        self.register_buffer("mask", mask.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """x [N, d] -> (mu [N, d], log_scale [N, d]); output i sees x_j for j < i only (in the
    natural order; flows reverse the order between layers). Output layer zero-initialised."""

    def __init__(self, d: int, hidden: int, depth: int = 2) -> None:
        super().__init__()
        deg_in = torch.arange(1, d + 1)
        degs = [deg_in]
        for _ in range(depth):
            degs.append(torch.arange(hidden) % max(d - 1, 1) + 1)  # degrees 1 .. d-1
        layers: list[nn.Module] = []
        for a, b in zip(degs[:-1], degs[1:], strict=True):
            layers += [MaskedLinear(len(a), len(b), b[:, None] >= a[None, :]), nn.ReLU()]
        out_mask = (deg_in[:, None] > degs[-1][None, :]).repeat(2, 1)  # strict: output i sees < i
        self.out = MaskedLinear(len(degs[-1]), 2 * d, out_mask)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.net = nn.Sequential(*layers)
        self.d = d

    def masked(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(W * mask, b) of every layer: computed once and reused by the d sequential sweeps of
        MAF sampling / IAF density, so an exported graph holds one copy of the weights."""
        layers = [m for m in self.net if isinstance(m, MaskedLinear)] + [self.out]
        return [(m.weight * m.mask, m.bias) for m in layers]

    def forward(
        self, x: torch.Tensor, params: list[tuple[torch.Tensor, torch.Tensor]] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x [N, d] -> (mu [N, d], log_scale [N, d]); `params` from masked() (default: now)."""
        params = params or self.masked()
        for w, b in params[:-1]:
            x = torch.relu(nn.functional.linear(x, w, b))
        mu, log_scale = nn.functional.linear(x, *params[-1]).split(self.d, dim=1)
        return mu, log_scale


class MADEFlow(Flow):
    """Layers of MADEs giving (mu, log-scale a) for each dimension: MAF and IAF differ only in
    which direction is the one-pass one."""

    Config = FlowConfig

    def __init__(self, config: FlowConfig) -> None:
        super().__init__()
        self.config = config
        self.mades = nn.ModuleList(
            MADE(config.latent_dim, config.hidden, config.depth) for _ in range(config.layers)
        )

    def _ma(self, made: MADE, x: torch.Tensor, params=None) -> tuple[torch.Tensor, torch.Tensor]:
        mu, a = made(x, params)
        return mu, soft_scale(a, self.config.scale_bound)
