"""A small MNIST CNN classifier whose penultimate layer is the feature map for FID-style metrics."""

from __future__ import annotations

import torch
from torch import nn

from ganflow.models.configs import MNISTCNNConfig
from ganflow.models.registry import CLASSIFIERS

DROPOUT = 0.3  # before the class layer, active in training mode only


def _block(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3x3 convs (BatchNorm, ReLU) then a 2x2 max-pool: [N, c_in, H, W] -> [N, c_out, H/2, W/2]."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


@CLASSIFIERS.register("mnist-cnn")
class MNISTCNN(nn.Module):
    Config = MNISTCNNConfig

    def __init__(self, config: MNISTCNNConfig) -> None:
        super().__init__()
        self.config = config
        c_in, h, w = config.data_shape
        c = config.channels
        self.body = nn.Sequential(
            _block(c_in, c),
            _block(c, 2 * c),
            nn.Flatten(),
            nn.Linear(2 * c * (h // 4) * (w // 4), config.hidden),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(DROPOUT), nn.Linear(config.hidden, config.n_classes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [N, C, H, W] in [-1, 1] -> (logits [N, n_classes], features [N, hidden])."""
        features = self.body(x)
        return self.head(features), features
