"""Small layer helpers shared by the architectures."""

from __future__ import annotations

from torch import nn


def maybe_sn(layer: nn.Module, spectral_norm: bool) -> nn.Module:
    """Wrap `layer` in spectral normalisation (Miyato et al. 2018) when asked."""
    if not spectral_norm:
        return layer
    return nn.utils.parametrizations.spectral_norm(layer)
