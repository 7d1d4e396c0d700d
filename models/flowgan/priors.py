"""Flow-GAN priors p(z) over the flow's latent z [N, D]: logistic (NICE, the authors' MNIST) and Gaussian.

Every prior also maps a standard normal g [N, D] to a draw of itself (`from_gaussian`): the sampler's
proposal draws g ~ N(0, I), so the exported generator graph starts with this map (identity for the
Gaussian prior; the logistic quantile of Phi(g) for the logistic prior), and G(g) has exactly the
model's distribution whatever the prior.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ganflow.models.registry import Registry

PRIORS: Registry = Registry("flow prior")

# Numerical Recipes (2nd ed., section 6.2) erfcc: erfc(x) = t exp(-x^2 + P(t)), t = 1 / (1 + x / 2),
# fractional error < 1.2e-7 for every x >= 0. Only exp/log/mul/add: it exports to any ONNX runtime.
_ERFC = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def log_erfc(x: torch.Tensor) -> torch.Tensor:
    """log erfc(x) for x >= 0 [any shape], in the log domain (no underflow in the tails)."""
    t = 1.0 / (1.0 + 0.5 * x)
    poly = torch.full_like(x, _ERFC[-1])
    for c in reversed(_ERFC[:-1]):
        poly = poly * t + c
    return torch.log(t) - x * x + poly


def gaussian_to_logistic(g: torch.Tensor) -> torch.Tensor:
    """z = logit(Phi(g)) [same shape]: a standard logistic draw from a standard normal one.

    With a = |g|: log Phi(-a) = log(erfc(a / sqrt 2) / 2), log Phi(a) = log1p(-Phi(-a)), and
    logit(Phi(g)) = sign(g) (log Phi(a) - log Phi(-a)): accurate in both tails."""
    a = g.abs()
    log_lo = math.log(0.5) + log_erfc(a * (1.0 / math.sqrt(2.0)))
    log_hi = torch.log1p(-torch.exp(log_lo))
    return torch.sign(g) * (log_hi - log_lo)


@PRIORS.register("logistic")
class LogisticPrior(nn.Module):
    """p(z) = prod_i sigmoid(z_i) sigmoid(-z_i) (NICE, Dinh et al. 2015, section 3.4)."""

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, D] -> log p(z) [N] in nats: sum_i -(softplus(z_i) + softplus(-z_i))."""
        return -(F.softplus(z) + F.softplus(-z)).sum(dim=1)

    def from_gaussian(self, g: torch.Tensor) -> torch.Tensor:
        return gaussian_to_logistic(g)


@PRIORS.register("gaussian")
class GaussianPrior(nn.Module):
    """p(z) = N(0, I_D) (Real NVP, Dinh et al. 2017)."""

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, D] -> log p(z) [N] in nats."""
        return -0.5 * (z * z).sum(dim=1) - 0.5 * z.shape[1] * math.log(2 * math.pi)

    def from_gaussian(self, g: torch.Tensor) -> torch.Tensor:
        return g
