"""Latent pipeline stages (propose -> select -> refine -> decode), one per file."""

from ganflow.sampler.stages.base import PROPOSALS, REFINERS, SELECTORS, Context

# importing the stage modules registers them
from ganflow.sampler.stages import gaussian, latent_rs  # noqa: E402,F401  isort: skip
from ganflow.sampler.stages import flow  # noqa: E402,F401  isort: skip
from ganflow.sampler.stages import dgflow  # noqa: E402,F401  isort: skip

__all__ = ["Context", "PROPOSALS", "REFINERS", "SELECTORS"]
