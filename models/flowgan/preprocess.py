"""Flow-GAN preprocessing: data range -> [0, 1] -> alpha squeeze -> logit, with its exact log-determinant.

Data x lives in the dataset's range [lo, hi] (MNIST in ganflow: [-1, 1], DataSpec.range). The flow
models h = logit(alpha + (1 - 2 alpha) y), y = (x - lo) / (hi - lo) in [0, 1] (REFERENCES.md,
Flow-GAN: alpha = 1e-7). Change of variables, per example (D = prod(shape)):

    log p_x(x) = log p_h(h) + sum_i [ -log(hi - lo) + log(1 - 2 alpha) - log y'_i - log(1 - y'_i) ]

with y' = alpha + (1 - 2 alpha) y. Dequantisation of real (quantised) images, y = (255 u + U) / 256
with U ~ U(0, 1) and u = k / 255 the pixel, is done by `dequantize` (training) or by the sampler's
nll metric; it is not part of the density.
"""

from __future__ import annotations

import math

import torch
from torch import nn

ALPHA = 1e-7  # REFERENCES.md, Flow-GAN preprocessing


class LogitPreprocess(nn.Module):
    """x [N, *shape] in [lo, hi] <-> h [N, *shape] in logit space (the flow's input)."""

    def __init__(self, data_range: tuple[float, float] = (-1.0, 1.0), alpha: float = ALPHA) -> None:
        super().__init__()
        self.lo, self.hi = float(data_range[0]), float(data_range[1])
        self.alpha = float(alpha)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [N, *shape] -> (h [N, *shape], log |det dh/dx| [N])."""
        # y' and 1 - y' from the two distances to the range's ends: no cancellation near 1, so
        # log(1 - y') stays finite in float32 for every x in [lo, hi] (and onnxruntime agrees)
        scale = (1.0 - 2.0 * self.alpha) / (self.hi - self.lo)
        log_y = torch.log(self.alpha + scale * (x - self.lo))
        log_1my = torch.log(self.alpha + scale * (self.hi - x))
        const = math.log(1.0 - 2.0 * self.alpha) - math.log(self.hi - self.lo)
        logdet = (const - log_y - log_1my).reshape(x.shape[0], -1).sum(dim=1)
        return log_y - log_1my, logdet

    def inverse(self, h: torch.Tensor) -> torch.Tensor:
        """h [N, *shape] -> x [N, *shape] in [lo, hi]."""
        y = (torch.sigmoid(h) - self.alpha) * (1.0 / (1.0 - 2.0 * self.alpha))
        return self.lo + (self.hi - self.lo) * y


class IdentityPreprocess(nn.Module):
    """Unbounded data (2-D toys, DataSpec.range None): the flow acts on x itself, log det 0."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)

    def inverse(self, h: torch.Tensor) -> torch.Tensor:
        return h


def dequantize(x: torch.Tensor, noise: torch.Tensor, data_range: tuple[float, float]) -> torch.Tensor:
    """Quantised data x [N, *shape] (256 levels in [lo, hi]) and noise U(0, 1) [N, *shape] ->
    x' = lo + (hi - lo) (k + U) / 256 with k = round(255 (x - lo) / (hi - lo)) (REFERENCES.md)."""
    lo, hi = data_range
    k = torch.round((x - lo) * (255.0 / (hi - lo)))
    return lo + (hi - lo) * (k + noise) * (1.0 / 256.0)
