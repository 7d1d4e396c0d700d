"""Gaussian proposal: z ~ N(0, I), optionally truncated (resampling |z_i| > t)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganflow.sampler.errors import InputError
from ganflow.sampler.stages.base import BLOCK, PROPOSALS, BlockCache, Context, StageOptions, span

STREAM = 0


@dataclass(frozen=True)
class GaussianOptions(StageOptions):
    truncation: float | None = None  # resample coordinates with |z_i| > t; None: no truncation


@PROPOSALS.register("gaussian")
class GaussianProposal:
    """Latents for sample indices [start, stop): block b of BLOCK indices uses rng([seed, 0, b])."""

    needs = ()
    Options = GaussianOptions

    def __init__(self, ctx: Context, options: GaussianOptions) -> None:
        self.ctx = ctx
        self.d = ctx.bundle.latent_dim
        self.stats: dict[str, float] = {}
        t = options.truncation
        if t is not None and not (np.isfinite(t) and t > 0):
            raise InputError(f"--truncation must be a positive number, got {t}")
        self.truncation = t
        self.cache = BlockCache()  # small batches and latent-rs rounds reuse blocks

    def _block(self, b: int) -> np.ndarray:
        return self.cache.get(b, lambda: self._draw(b))

    def _draw(self, b: int) -> np.ndarray:
        rng = self.ctx.block_rng(STREAM, b)
        z = rng.standard_normal((BLOCK, self.d), dtype=np.float32)
        if self.truncation is not None:
            bad = np.abs(z) > self.truncation
            while bad.any():  # truncated normal by elementwise rejection
                z[bad] = rng.standard_normal(int(bad.sum()), dtype=np.float32)
                bad = np.abs(z) > self.truncation
        return z

    def __call__(self, start: int, stop: int) -> np.ndarray:
        """z [stop - start, d] float32."""
        return span(start, stop, self._block)
