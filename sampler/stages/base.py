"""Stage registries and the context every stage is built from."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
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


class BlockCache:
    """The seeded blocks a stage drew last, most recently used first, at most `max_entries` and
    `max_bytes`. Small batches slice the same block again and again, and latent-rs rounds and
    DGflow steps interleave several blocks (one per round or step): without it, a batch of one
    would draw a whole block of BLOCK rows per round or step."""

    def __init__(self, max_entries: int = 32, max_bytes: int = 64 << 20) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._blocks: OrderedDict[Hashable, np.ndarray] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], np.ndarray]) -> np.ndarray:
        """The block for `key`, drawn by `make()` if not cached. Callers must not write into it."""
        if key in self._blocks:
            self._blocks.move_to_end(key)
            return self._blocks[key]
        block = make()
        self._blocks[key] = block
        while len(self._blocks) > self.max_entries or (
            len(self._blocks) > 1 and sum(b.nbytes for b in self._blocks.values()) > self.max_bytes
        ):
            self._blocks.popitem(last=False)
        return block


def span(start: int, stop: int, block: Callable[[int], np.ndarray]) -> np.ndarray:
    """Rows [start, stop) of the concatenated blocks block(b) of BLOCK rows each, as a new array
    (stages may write into what they are given; the cached blocks stay untouched)."""
    first, last = start // BLOCK, (stop - 1) // BLOCK
    if first == last:
        return block(first)[start - first * BLOCK : stop - first * BLOCK].copy()
    return np.concatenate([block(b) for b in range(first, last + 1)])[
        start - first * BLOCK : stop - first * BLOCK
    ]
