"""Frozen, validated configs for every architecture (one dataclass per network)."""

from __future__ import annotations

import math
from dataclasses import dataclass


def _check_shape(data_shape: tuple[int, ...]) -> None:
    if not data_shape or any(int(s) <= 0 for s in data_shape):
        raise ValueError(f"data_shape must be non-empty positive ints, got {data_shape}")


def _check_image(data_shape: tuple[int, ...], arch: str) -> None:
    if len(data_shape) != 3 or data_shape[1] % 4 or data_shape[2] % 4:
        raise ValueError(
            f"{arch} needs image data [C, H, W] with H and W divisible by 4, got {data_shape}; "
            "use arch 'mlp' for vector data"
        )


@dataclass(frozen=True)
class MLPGeneratorConfig:
    """z[N, latent_dim] -> x[N, *data_shape] through `depth` ReLU layers of `hidden` units."""

    latent_dim: int
    data_shape: tuple[int, ...]
    hidden: int = 256
    depth: int = 3
    tanh_output: bool = False  # True for data scaled to [-1, 1] (images)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_shape", tuple(int(s) for s in self.data_shape))
        _check_shape(self.data_shape)
        if self.latent_dim <= 0 or self.hidden <= 0 or self.depth < 1:
            raise ValueError("latent_dim and hidden must be > 0 and depth >= 1")

    @property
    def data_size(self) -> int:
        return math.prod(self.data_shape)


@dataclass(frozen=True)
class MLPCriticConfig:
    """x[N, *data_shape] -> logit[N, 1] through `depth` LeakyReLU(0.2) layers."""

    data_shape: tuple[int, ...]
    hidden: int = 256
    depth: int = 3
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_shape", tuple(int(s) for s in self.data_shape))
        _check_shape(self.data_shape)
        if self.hidden <= 0 or self.depth < 1:
            raise ValueError("hidden must be > 0 and depth >= 1")

    @property
    def data_size(self) -> int:
        return math.prod(self.data_shape)


@dataclass(frozen=True)
class DCGANGeneratorConfig:
    """z[N, latent_dim] -> x[N, C, H, W]: linear to [4c, H/4, W/4], two stride-2 transposed convs."""

    latent_dim: int
    data_shape: tuple[int, ...] = (1, 28, 28)
    channels: int = 32  # c: the last hidden layer has c channels, the first 4c
    batchnorm: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_shape", tuple(int(s) for s in self.data_shape))
        _check_shape(self.data_shape)
        _check_image(self.data_shape, "dcgan")
        if self.latent_dim <= 0 or self.channels <= 0:
            raise ValueError("latent_dim and channels must be > 0")


@dataclass(frozen=True)
class DCGANCriticConfig:
    """x[N, C, H, W] -> logit[N, 1]: two stride-2 convs (c, 2c channels), LeakyReLU, linear."""

    data_shape: tuple[int, ...] = (1, 28, 28)
    channels: int = 64
    spectral_norm: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_shape", tuple(int(s) for s in self.data_shape))
        _check_shape(self.data_shape)
        _check_image(self.data_shape, "dcgan")
        if self.channels <= 0:
            raise ValueError("channels must be > 0")


@dataclass(frozen=True)
class MNISTCNNConfig:
    """x[N, C, H, W] -> (logits[N, n_classes], features[N, hidden]): two conv blocks (c, 2c channels,
    each two 3x3 convs and a 2x2 max-pool), then a `hidden`-unit ReLU layer (the features)."""

    channels: int = 32  # c: the first block has c channels, the second 2c
    hidden: int = 128
    n_classes: int = 10
    data_shape: tuple[int, ...] = (1, 28, 28)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_shape", tuple(int(s) for s in self.data_shape))
        _check_shape(self.data_shape)
        _check_image(self.data_shape, "mnist-cnn")
        if self.channels <= 0 or self.hidden <= 0:
            raise ValueError(f"channels and hidden must be > 0, got {self.channels} and {self.hidden}")
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {self.n_classes}")


@dataclass(frozen=True)
class MLPWeightConfig:
    """z[N, latent_dim] -> w[N] >= 0: `depth` LeakyReLU(0.2) layers of `hidden` units, softplus out."""

    latent_dim: int
    hidden: int = 256
    depth: int = 3

    def __post_init__(self) -> None:
        if self.latent_dim <= 0 or self.hidden <= 0 or self.depth < 1:
            raise ValueError("latent_dim and hidden must be > 0 and depth >= 1")
