"""Latent priors the trainer draws z from; FIS-GAN replaces the Gaussian with a flow."""

from __future__ import annotations

import torch


class GaussianPrior:
    """z ~ N(0, I_d), uniform example weights."""

    def __init__(self, latent_dim: int) -> None:
        self.latent_dim = latent_dim

    def sample(self, n: int, rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z [n, d], weights [n] or None for uniform)."""
        return torch.randn(n, self.latent_dim, generator=rng), None
