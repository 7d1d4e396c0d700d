"""Stage registries and the context every stage is built from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ganflow.sampler.bundle import Bundle
from ganflow.sampler.errors import MethodError
from ganflow.sampler.registry import Registry
from ganflow.sampler.runtime import Runtime

PROPOSALS: Registry = Registry("proposal stage", MethodError)  # draw z for sample indices
SELECTORS: Registry = Registry("selection stage", MethodError)  # keep a subset of proposals
REFINERS: Registry = Registry("refinement stage", MethodError)  # move z (e.g. DGflow)

BLOCK = 1024  # latents come in seeded blocks of this size: samples do not depend on --batch-size


@dataclass
class Context:
    """What a stage may use: the bundle, the runtime (sessions), the seed, options."""

    bundle: Bundle
    runtime: Runtime
    seed: int
    options: dict[str, Any]

    def block_rng(self, stream: int, block: int, *more: int) -> np.random.Generator:
        """The random stream for one block of sample indices, for one stage (`stream`)."""
        return np.random.default_rng([self.seed, stream, block, *more])
