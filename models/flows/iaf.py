"""IAF (Kingma et al. 2016): autoregressive h -> z in one pass (fast sampling), density sequential."""

from __future__ import annotations

import torch

from ganflow.models.flows.made import MADEFlow
from ganflow.models.registry import FLOWS


@FLOWS.register("iaf")
class IAF(MADEFlow):
    """Each layer, in the sampling direction: z_i = h_i exp(a_i(h_<i)) + mu_i(h_<i) (IAF eq. 10
    with the scale in log form), then the order reverses: MAF with its two directions swapped.

    Sampling is one MADE pass per layer. The density needs h from z, one dimension at a time:
    d fixed-point sweeps h <- (z - mu(h)) exp(-a(h)) are exact (a plain loop: ONNX unrolls it)."""

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for made in self.mades:
            z = z.flip(1)
            h = z
            params = made.masked()
            for _ in range(self.dim):  # sequential over dimensions (exact after d sweeps)
                mu, a = self._ma(made, h, params)
                h = (z - mu) * torch.exp(-a)
            z = h
            logdet = logdet - a.sum(dim=1)
        return z, logdet

    def inverse(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logdet = torch.zeros(h.shape[0], dtype=h.dtype, device=h.device)
        for made in reversed(self.mades):
            mu, a = self._ma(made, h)
            h = (h * torch.exp(a) + mu).flip(1)
            logdet = logdet + a.sum(dim=1)
        return h, logdet
