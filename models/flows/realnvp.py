"""Real-NVP (Dinh et al. 2016): affine coupling layers over the latent vector, halves alternating."""

from __future__ import annotations

import torch
from torch import nn

from ganflow.models.flows.base import Flow, FlowConfig, mlp, soft_scale
from ganflow.models.registry import FLOWS


class AffineCoupling(nn.Module):
    """y_b = x_b * exp(s(x_a)) + t(x_a), y_a = x_a; `flip` swaps which half conditions."""

    def __init__(self, cfg: FlowConfig, flip: bool) -> None:
        super().__init__()
        d = cfg.latent_dim
        self.k = d // 2 if not flip else d - d // 2  # size of the conditioning half
        self.flip, self.bound = flip, cfg.scale_bound
        self.net = mlp(self.k, cfg.hidden, 2 * (d - self.k), cfg.depth)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.flip:
            return x[:, -self.k :], x[:, : -self.k]
        return x[:, : self.k], x[:, self.k :]

    def _join(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.cat([b, a] if self.flip else [a, b], dim=1)

    def _st(self, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.net(a).chunk(2, dim=1)
        return soft_scale(s, self.bound), t

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._split(x)
        s, t = self._st(a)
        return self._join(a, b * torch.exp(s) + t), s.sum(dim=1)

    def inverse(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self._split(y)
        s, t = self._st(a)
        return self._join(a, (b - t) * torch.exp(-s)), -s.sum(dim=1)


@FLOWS.register("realnvp")
class RealNVP(Flow):
    """z -> h through `layers` couplings; both directions are one parallel pass (cheap sampling
    and density: the flow the FIS-GAN paper recommends, section 3.3)."""

    Config = FlowConfig

    def __init__(self, config: FlowConfig) -> None:
        super().__init__()
        self.config = config
        self.couplings = nn.ModuleList(AffineCoupling(config, flip=bool(i % 2)) for i in range(config.layers))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for c in self.couplings:
            z, ld = c(z)
            logdet = logdet + ld
        return z, logdet

    def inverse(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(h.shape[0], dtype=h.dtype, device=h.device)
        for c in reversed(self.couplings):
            h, ld = c.inverse(h)
            logdet = logdet + ld
        return h, logdet
