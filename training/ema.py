"""Exponential moving average of a module's weights (Yazici et al. 2019, "The unusual effectiveness
of averaging in GAN training"): the averaged generator is the one evaluated and exported."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """theta_ema <- decay * theta_ema + (1 - decay) * theta after every optimizer step; buffers
    (BatchNorm running statistics) are copied, not averaged. `module` is the averaged copy."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.model = model
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self) -> None:
        for avg, p in zip(self.module.parameters(), self.model.parameters(), strict=True):
            avg.lerp_(p.detach(), 1.0 - self.decay)
        for avg, b in zip(self.module.buffers(), self.model.buffers(), strict=True):
            avg.copy_(b)
