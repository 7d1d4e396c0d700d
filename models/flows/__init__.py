"""Normalizing flows over the latent vector (FIS-GAN's Q(z)); importing registers them in FLOWS."""

from ganflow.models.flows.base import Flow, FlowConfig

# one flow per file; importing registers it
from ganflow.models.flows import iaf, maf, realnvp  # noqa: E402,F401  isort: skip

__all__ = ["Flow", "FlowConfig"]
