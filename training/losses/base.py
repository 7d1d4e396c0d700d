"""The GAN loss interface and its registry."""

from __future__ import annotations

import torch
from torch import nn

from ganflow.models.registry import Registry
from ganflow.training.distributed import BatchRNG

LOSSES: Registry = Registry("loss")


class GANLoss:
    """A critic objective and a generator objective over critic logits.

    `weights` (optional, [N]) are per-example weights on the generated batch (importance
    weights of a latent prior); None means uniform.
    """

    n_critic: int = 1  # critic updates per generator update, the loss's usual default

    @classmethod
    def from_config(cls, config) -> GANLoss:
        """Build from a TrainConfig (losses read the options they need)."""
        return cls()

    def critic_loss(
        self,
        critic: nn.Module,
        real: torch.Tensor,
        fake: torch.Tensor,
        rng: BatchRNG,
        weights: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def generator_loss(
        self, critic: nn.Module, fake: torch.Tensor, weights: torch.Tensor | None = None
    ) -> torch.Tensor:
        raise NotImplementedError


def wmean(v: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Weighted mean of v [N] (or [N, 1]): mean(v * weights), the weights [N] already normalised
    to mean 1 over the *global* batch (FlowPrior.sample does that). Not renormalised here, so that
    under torchrun the average of the ranks' values is the one-process value."""
    v = v.reshape(-1)
    if weights is None:
        return v.mean()
    return (v * weights).mean()
