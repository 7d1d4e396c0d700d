"""DCGAN-style convolutional generator and critic for [C, H, W] images (MNIST: 1x28x28)."""

from __future__ import annotations

import torch
from torch import nn

from ganflow.models.configs import DCGANCriticConfig, DCGANGeneratorConfig
from ganflow.models.layers import maybe_sn
from ganflow.models.registry import CRITICS, GENERATORS


@GENERATORS.register("dcgan")
class DCGANGenerator(nn.Module):
    Config = DCGANGeneratorConfig

    def __init__(self, config: DCGANGeneratorConfig) -> None:
        super().__init__()
        self.config = config
        c_out, h, w = config.data_shape
        c = config.channels
        self.base = (4 * c, h // 4, w // 4)
        bn1 = nn.BatchNorm1d(4 * c * (h // 4) * (w // 4)) if config.batchnorm else nn.Identity()
        bn2 = nn.BatchNorm2d(2 * c) if config.batchnorm else nn.Identity()
        self.fc = nn.Sequential(nn.Linear(config.latent_dim, 4 * c * (h // 4) * (w // 4)), bn1)
        self.conv = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose2d(4 * c, 2 * c, 4, stride=2, padding=1),
            bn2,
            nn.ReLU(),
            nn.ConvTranspose2d(2 * c, c_out, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, latent_dim] -> x [N, C, H, W] in [-1, 1]."""
        return self.conv(self.fc(z).reshape(z.shape[0], *self.base))


@CRITICS.register("dcgan")
class DCGANCritic(nn.Module):
    Config = DCGANCriticConfig

    def __init__(self, config: DCGANCriticConfig) -> None:
        super().__init__()
        self.config = config
        c_in, h, w = config.data_shape
        c, sn = config.channels, config.spectral_norm
        self.net = nn.Sequential(
            maybe_sn(nn.Conv2d(c_in, c, 4, stride=2, padding=1), sn),
            nn.LeakyReLU(0.2),
            maybe_sn(nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), sn),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            maybe_sn(nn.Linear(2 * c * (h // 4) * (w // 4), 1), sn),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [N, C, H, W] -> logit [N, 1]."""
        return self.net(x)
