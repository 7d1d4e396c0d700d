"""Latent priors the trainer draws z from; FIS-GAN replaces the Gaussian with a flow."""

from __future__ import annotations

import torch

from ganflow.training.distributed import BatchRNG


class GaussianPrior:
    """z ~ N(0, I_d), uniform example weights."""

    def __init__(self, latent_dim: int) -> None:
        self.latent_dim = latent_dim

    def sample(self, n: int, rng: BatchRNG) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z [n, d], weights [n] or None for uniform)."""
        return rng.randn(n, self.latent_dim), None
