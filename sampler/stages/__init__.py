"""Latent pipeline stages (propose -> select -> refine -> decode), one per file; the contract
every stage follows is written in stages/base.py."""

from ganflow.sampler.stages.base import (
    DECODERS,
    KINDS,
    PROPOSALS,
    REFINERS,
    SELECTORS,
    Context,
    NoOptions,
    Stage,
    StageOptions,
    options_from_flat,
    stage_class,
)

# importing the stage modules registers them
from ganflow.sampler.stages import gaussian, latent_rs  # noqa: E402,F401  isort: skip
from ganflow.sampler.stages import flow  # noqa: E402,F401  isort: skip
from ganflow.sampler.stages import dgflow  # noqa: E402,F401  isort: skip
from ganflow.sampler.stages import decode  # noqa: E402,F401  isort: skip
from ganflow.sampler.stages import ddls, drs, mh_gan  # noqa: E402,F401  isort: skip

__all__ = [
    "DECODERS",
    "KINDS",
    "PROPOSALS",
    "REFINERS",
    "SELECTORS",
    "Context",
    "NoOptions",
    "Stage",
    "StageOptions",
    "options_from_flat",
    "stage_class",
]
