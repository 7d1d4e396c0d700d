"""Importance-weight network over the latent space (latent reweighting, Issenhuth et al.)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganflow.models.configs import MLPWeightConfig
from ganflow.models.registry import WEIGHTS


@WEIGHTS.register("mlp")
class MLPWeight(nn.Module):
    Config = MLPWeightConfig

    def __init__(self, config: MLPWeightConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = config.latent_dim
        for _ in range(config.depth):
            layers += [nn.Linear(width, config.hidden), nn.LeakyReLU(0.2)]
            width = config.hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, latent_dim] -> w [N] >= 0 (softplus keeps it positive and smooth)."""
        return F.softplus(self.net(z)).reshape(z.shape[0])
