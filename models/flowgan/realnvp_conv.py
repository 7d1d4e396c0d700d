"""A small multi-scale convolutional Real NVP (Dinh et al. 2017, section 3.6) for images [C, H, W].

Stage 1 at [C, H, W]: checkerboard affine couplings; squeeze to [4C, H/2, W/2] (a permutation, log
det 0); stage 2: channel-wise affine couplings; factor out the first 2C channels (they are latent
now); stage 3: checkerboard couplings on the other 2C channels. z = [factored, stage-3 output],
flattened. Coupling nets are 3 convs (3x3, ReLU, `channels` wide, no normalisation, so training and
evaluation modes agree); scales s = tanh(.) keep every step well conditioned at the start.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ganflow.models.flowgan.base import FlowGANConfig, FlowGenerator
from ganflow.models.registry import GENERATORS


def conv_net(c_in: int, width: int, c_out: int) -> nn.Sequential:
    last = nn.Conv2d(width, c_out, 3, padding=1)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(
        nn.Conv2d(c_in, width, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1),
        nn.ReLU(),
        last,
    )


class CheckerboardCoupling(nn.Module):
    """h' = h exp(s) + t on the (1 - m) squares, s, t = net(m h), m a checkerboard of `parity`."""

    def __init__(self, shape: tuple[int, int, int], parity: int, width: int) -> None:
        super().__init__()
        c, h, w = shape
        ii, jj = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        self.register_buffer("mask", ((ii + jj) % 2 == parity).float()[None, None], persistent=False)
        self.net = conv_net(c, width, 2 * c)

    def _params(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.net(h * self.mask).chunk(2, dim=1)
        free = 1.0 - self.mask
        return torch.tanh(s) * free, t * free

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """h [N, C, H, W] -> (h', log|det| [N])."""
        s, t = self._params(h)
        return h * torch.exp(s) + t, s.reshape(h.shape[0], -1).sum(dim=1)

    def inverse(self, h: torch.Tensor) -> torch.Tensor:
        s, t = self._params(h)  # the masked squares are unchanged, so s, t are recomputed exactly
        return (h - t) * torch.exp(-s)


class ChannelCoupling(nn.Module):
    """Channel-wise mask: one half of the channels conditions an affine map of the other half."""

    def __init__(self, channels: int, parity: int, width: int) -> None:
        super().__init__()
        self.half, self.parity = channels // 2, parity
        self.net = conv_net(channels - self.half if parity else self.half, width, 2 * (channels - self.half))

    def _split(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = h[:, : self.half], h[:, self.half :]
        return (b, a) if self.parity else (a, b)

    def _join(self, keep: torch.Tensor, change: torch.Tensor) -> torch.Tensor:
        return torch.cat([change, keep] if self.parity else [keep, change], dim=1)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keep, change = self._split(h)
        s, t = self.net(keep).chunk(2, dim=1)
        s = torch.tanh(s)
        return self._join(keep, change * torch.exp(s) + t), s.reshape(h.shape[0], -1).sum(dim=1)

    def inverse(self, h: torch.Tensor) -> torch.Tensor:
        keep, change = self._split(h)
        s, t = self.net(keep).chunk(2, dim=1)
        return self._join(keep, (change - t) * torch.exp(-torch.tanh(s)))


def squeeze(h: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, 4C, H/2, W/2] (each 2x2 block to channels)."""
    n, c, hh, ww = h.shape
    h = h.reshape(n, c, hh // 2, 2, ww // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return h.reshape(n, 4 * c, hh // 2, ww // 2)


def unsqueeze(h: torch.Tensor) -> torch.Tensor:
    n, c4, hh, ww = h.shape
    h = h.reshape(n, c4 // 4, 2, 2, hh, ww).permute(0, 1, 4, 2, 5, 3)
    return h.reshape(n, c4 // 4, 2 * hh, 2 * ww)


@dataclass(frozen=True)
class RealNVPConvConfig(FlowGANConfig):
    channels: int = 32  # width of the coupling convs
    stage_couplings: int = 3  # couplings in each of the three stages

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.data_shape) != 3 or self.data_shape[1] % 2 or self.data_shape[2] % 2:
            raise ValueError(
                f"realnvp-conv needs images [C, H, W] with even H and W, got {list(self.data_shape)}; "
                "use realnvp-mlp for vectors"
            )
        if self.channels <= 0 or self.stage_couplings < 1:
            raise ValueError("channels must be > 0 and stage_couplings >= 1")


@GENERATORS.register("realnvp-conv")
class RealNVPConvGenerator(FlowGenerator):
    Config = RealNVPConvConfig

    def __init__(self, config: RealNVPConvConfig) -> None:
        super().__init__(config)
        c, h, w = config.data_shape
        k, width = config.stage_couplings, config.channels
        self.stage1 = nn.ModuleList(CheckerboardCoupling((c, h, w), i % 2, width) for i in range(k))
        self.stage2 = nn.ModuleList(ChannelCoupling(4 * c, i % 2, width) for i in range(k))
        self.stage3 = nn.ModuleList(
            CheckerboardCoupling((2 * c, h // 2, w // 2), i % 2, width) for i in range(k)
        )
        self.split = 2 * c  # channels factored out after stage 2

    @classmethod
    def example_config(cls) -> dict:
        return {"arch": "realnvp-conv", "latent_dim": 16, "data_shape": [1, 4, 4], "channels": 8}

    def _to_latent(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n = h.shape[0]
        logdet = torch.zeros(n, dtype=h.dtype, device=h.device)
        for layer in self.stage1:
            h, ld = layer(h)
            logdet = logdet + ld
        h = squeeze(h)
        for layer in self.stage2:
            h, ld = layer(h)
            logdet = logdet + ld
        out, h = h[:, : self.split], h[:, self.split :]
        for layer in self.stage3:
            h, ld = layer(h)
            logdet = logdet + ld
        return torch.cat([out.reshape(n, -1), h.reshape(n, -1)], dim=1), logdet

    def _from_latent(self, z: torch.Tensor) -> torch.Tensor:
        n = z.shape[0]
        c, hh, ww = self.config.data_shape
        cut = self.split * (hh // 2) * (ww // 2)
        out = z[:, :cut].reshape(n, self.split, hh // 2, ww // 2)
        h = z[:, cut:].reshape(n, 4 * c - self.split, hh // 2, ww // 2)
        for layer in reversed(self.stage3):
            h = layer.inverse(h)
        h = torch.cat([out, h], dim=1)
        for layer in reversed(self.stage2):
            h = layer.inverse(h)
        h = unsqueeze(h)
        for layer in reversed(self.stage1):
            h = layer.inverse(h)
        return h
