"""Gaussian proposal: z ~ N(0, I), optionally truncated (resampling |z_i| > t)."""

from __future__ import annotations

import numpy as np

from ganflow.sampler.errors import InputError
from ganflow.sampler.stages.base import BLOCK, PROPOSALS, Context

STREAM = 0


@PROPOSALS.register("gaussian")
class GaussianProposal:
    """Latents for sample indices [start, stop): block b of BLOCK indices uses rng([seed, 0, b])."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.d = ctx.bundle.latent_dim
        t = ctx.options.get("truncation")
        if t is not None and not (np.isfinite(t) and t > 0):
            raise InputError(f"--truncation must be a positive number, got {t}")
        self.truncation = t
        self._cached: tuple[int, np.ndarray] | None = None  # small batches reuse the last block

    def _block(self, b: int) -> np.ndarray:
        if self._cached is not None and self._cached[0] == b:
            return self._cached[1]
        rng = self.ctx.block_rng(STREAM, b)
        z = rng.standard_normal((BLOCK, self.d), dtype=np.float32)
        if self.truncation is not None:
            bad = np.abs(z) > self.truncation
            while bad.any():  # truncated normal by elementwise rejection
                z[bad] = rng.standard_normal(int(bad.sum()), dtype=np.float32)
                bad = np.abs(z) > self.truncation
        self._cached = (b, z)
        return z

    def __call__(self, start: int, stop: int) -> np.ndarray:
        """z [stop - start, d] float32."""
        first, last = start // BLOCK, (stop - 1) // BLOCK
        if first == last:  # a copy: later stages may write into their input
            return self._block(first)[start - first * BLOCK : stop - first * BLOCK].copy()
        z = np.concatenate([self._block(b) for b in range(first, last + 1)])
        return z[start - first * BLOCK : stop - first * BLOCK]
