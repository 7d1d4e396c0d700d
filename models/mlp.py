"""Fully connected generator and critic, for 2-D toys and for flattened images."""

from __future__ import annotations

import torch
from torch import nn

from ganflow.models.configs import MLPCriticConfig, MLPGeneratorConfig
from ganflow.models.layers import maybe_sn
from ganflow.models.registry import CRITICS, GENERATORS


@GENERATORS.register("mlp")
class MLPGenerator(nn.Module):
    Config = MLPGeneratorConfig

    def __init__(self, config: MLPGeneratorConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = config.latent_dim
        for _ in range(config.depth):
            layers += [nn.Linear(width, config.hidden), nn.ReLU()]
            width = config.hidden
        layers.append(nn.Linear(width, config.data_size))
        if config.tanh_output:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, latent_dim] -> x [N, *data_shape]."""
        return self.net(z).reshape(z.shape[0], *self.config.data_shape)


@CRITICS.register("mlp")
class MLPCritic(nn.Module):
    Config = MLPCriticConfig

    def __init__(self, config: MLPCriticConfig) -> None:
        super().__init__()
        self.config = config
        sn = config.spectral_norm
        layers: list[nn.Module] = []
        width = config.data_size
        for _ in range(config.depth):
            layers += [maybe_sn(nn.Linear(width, config.hidden), sn), nn.LeakyReLU(0.2)]
            width = config.hidden
        layers.append(maybe_sn(nn.Linear(width, 1), sn))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, *data_shape] -> logit [N, 1]."""
        return self.net(x.reshape(x.shape[0], -1))
