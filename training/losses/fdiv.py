"""f-GAN losses (Nowozin et al. 2016, Table 2; the report's Table 1): six f-divergences.

The critic's raw output v goes through the output activation g_f into the domain of the
conjugate f*; the critic maximises F = E_data[g_f(v)] - E_model[f*(g_f(v))] (eq. 6) and the
generator minimises -E_model[g_f(v)] (the practical objective of section 3.2). f*(g_f(v)) is
written in closed, overflow-safe form for each divergence.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ganflow.training.losses.base import LOSSES, GANLoss, wmean

T = torch.Tensor


@dataclass(frozen=True)
class FDivergence:
    """g_f (activation), f*(g_f(v)) (conjugate after activation), f*(t) and f'(1) (threshold)."""

    activation: Callable[[T], T]
    conjugate_of_activation: Callable[[T], T]
    conjugate: Callable[[T], T]
    threshold: float


LOG2 = math.log(2.0)
DIVERGENCES: dict[str, FDivergence] = {
    "kl": FDivergence(lambda v: v, lambda v: torch.exp(v - 1), lambda t: torch.exp(t - 1), 1.0),
    "rkl": FDivergence(lambda v: -torch.exp(-v), lambda v: v - 1, lambda t: -1 - torch.log(-t), -1.0),
    "pearson": FDivergence(lambda v: v, lambda v: v**2 / 4 + v, lambda t: t**2 / 4 + t, 0.0),
    "hellinger": FDivergence(
        lambda v: 1 - torch.exp(-v), lambda v: torch.expm1(v), lambda t: t / (1 - t), 0.0
    ),
    "js": FDivergence(
        lambda v: LOG2 - F.softplus(-v),
        lambda v: F.softplus(v) - LOG2,
        lambda t: -torch.log(2 - torch.exp(t)),
        0.0,
    ),
    "gan": FDivergence(lambda v: -F.softplus(-v), F.softplus, lambda t: -torch.log(1 - torch.exp(t)), -LOG2),
}


class FGANLoss(GANLoss):
    """Variational f-divergence GAN loss for one divergence (set by the registration below)."""

    n_critic = 1
    div: FDivergence

    def critic_loss(self, critic, real, fake, rng, weights=None):
        v_real, v_fake = critic(real).reshape(-1), critic(fake).reshape(-1)
        estimate = self.div.activation(v_real).mean() - wmean(
            self.div.conjugate_of_activation(v_fake), weights
        )
        return -estimate, {"f_divergence_estimate": estimate.item()}

    def generator_loss(self, critic, fake, weights=None):
        return -wmean(self.div.activation(critic(fake).reshape(-1)), weights)


for _name, _div in DIVERGENCES.items():
    LOSSES.register(f"f:{_name}")(type(f"FGAN_{_name}", (FGANLoss,), {"div": _div}))
