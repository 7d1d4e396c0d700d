"""MAF (Papamakarios et al. 2017): autoregressive z -> h in one pass, sampling h -> z sequential."""

from __future__ import annotations

import torch

from ganflow.models.flows.made import MADEFlow
from ganflow.models.registry import FLOWS


@FLOWS.register("maf")
class MAF(MADEFlow):
    """Each layer: h_i = (z_i - mu_i(z_<i)) exp(-a_i(z_<i)) (MAF eq. 4), then the order reverses.

    Density (training) is one MADE pass per layer. Sampling inverts z_i = h_i exp(a_i) + mu_i one
    dimension at a time: d fixed-point sweeps z <- h exp(a(z)) + mu(z) are exact, because after
    sweep k the first k dimensions are final (a plain loop, so ONNX export unrolls it)."""

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for made in self.mades:
            mu, a = self._ma(made, z)
            z = ((z - mu) * torch.exp(-a)).flip(1)
            logdet = logdet - a.sum(dim=1)
        return z, logdet

    def inverse(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(h.shape[0], dtype=h.dtype, device=h.device)
        for made in reversed(self.mades):
            h = h.flip(1)
            z = h
            params = made.masked()
            for _ in range(self.dim):  # sequential over dimensions (exact after d sweeps)
                mu, a = self._ma(made, z, params)
                z = h * torch.exp(a) + mu
            h = z
            logdet = logdet + a.sum(dim=1)
        return h, logdet
