"""The latent prior a GAN trainer draws z from: the interface, and N(0, I); FIS-GAN's flow is another."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

from ganflow.training.distributed import BatchRNG, Dist


class LatentPrior(ABC):
    """Everything `train_gan` asks of a prior; every hook but `sample` is a no-op here.

    What a prior adds to the run: `modules` (checkpointed in model.safetensors with the generator
    and critic), `optimizers` and `rngs` (in state.safetensors, restored on resume), `meta` (merged
    into config.json) and `stats` (logged with each training step)."""

    def __init__(self) -> None:
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.rngs: dict[str, torch.Generator] = {}
        self.meta: dict[str, Any] = {}
        self.stats: dict[str, float] = {}

    @abstractmethod
    def sample(self, n: int, draw: BatchRNG) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z [n, d], per-example loss weights [n] or None for uniform), drawn from `draw`."""

    def update(self, step: int, G: nn.Module, z: torch.Tensor, dist: Dist | None = None) -> None:  # noqa: B027
        """After the generator step `step` (0-based) that drew z [n, d] (this rank's slice)."""

    def eval_latents(self, h: torch.Tensor) -> torch.Tensor:
        """The fixed evaluation draws h ~ N(0, I) [N, d] -> the latents the in-training FID uses."""
        return h


class GaussianPrior(LatentPrior):
    """z ~ N(0, I_d), uniform example weights."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim

    def sample(self, n: int, draw: BatchRNG) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z [n, d], None: uniform weights)."""
        return draw.randn(n, self.latent_dim), None
