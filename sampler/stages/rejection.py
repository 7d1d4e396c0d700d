"""Per-sample rejection rounds shared by the rejection selectors (latent-rs, drs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ganflow.sampler.errors import NumericsError
from ganflow.sampler.stages.base import BLOCK, BlockCache, Context, span

STRIDE = 1 << 40  # round (or chain step) r of sample i uses proposal index i + r * STRIDE
HELD_OUT = 1 << 62  # proposal indices from here: burn-in/calibration draws, never a sample's or a round's


class RejectionRounds:
    """For sample index i, proposals i, i + S, i + 2S, ... (S = 2^40) are tried in order and the
    first accepted one is kept: proposal z is accepted when u < accept(z), u for (i, round r) from
    the seeded stream rng([seed, stream, block(i), r]). So sample i does not depend on the batch
    size or the shard, and the kept z follow q(z) accept(z) / Z for the proposal density q.

    `stats` (the stage's) counts "proposals" and "accepted"; `what` and `hint` word the error
    raised when a sample is still pending after `max_rounds` rounds."""

    def __init__(
        self, ctx: Context, stream: int, max_rounds: int, stats: dict[str, Any], what: str, hint: str
    ) -> None:
        self.ctx, self.stream, self.max_rounds = ctx, stream, int(max_rounds)
        self.stats, self.what, self.hint = stats, what, hint
        stats.update(proposals=0, accepted=0)
        self.cache = BlockCache(max_entries=128)  # (block, round) -> uniforms [BLOCK]

    def _uniforms(self, lo: int, hi: int, r: int) -> np.ndarray:
        def block(b: int) -> np.ndarray:
            return self.cache.get((b, r), lambda: self.ctx.block_rng(self.stream, b, r).random(BLOCK))

        return span(lo, hi, block)

    def __call__(
        self, z: np.ndarray, lo: int, hi: int, propose: Callable, accept: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """z [hi - lo, d]: round-0 proposals for samples lo..hi-1 -> the accepted latents; later
        rounds draw from `propose(lo', hi')` (the proposal stage) at shifted indices;
        accept(z [k, d]) -> acceptance probabilities [k]."""
        out = np.empty_like(z)
        pending = np.ones(hi - lo, dtype=bool)
        for r in range(self.max_rounds):
            cand = z if r == 0 else propose(lo + r * STRIDE, hi + r * STRIDE)
            idx = np.flatnonzero(pending)
            take = self._uniforms(lo, hi, r)[idx] < accept(cand[idx])
            out[idx[take]] = cand[idx[take]]
            pending[idx[take]] = False
            self.stats["proposals"] += len(idx)
            self.stats["accepted"] += int(take.sum())
            if not pending.any():
                return out
        rate = self.stats["accepted"] / max(self.stats["proposals"], 1)
        raise NumericsError(
            f"{self.what}: {int(pending.sum())} samples not accepted after {self.max_rounds} rounds "
            f"(acceptance rate {rate:.2%}): {self.hint}"
        )
