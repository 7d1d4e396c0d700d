"""LatentRS selection (report Algorithm 2): keep z with probability min(1, w(z) / m)."""

from __future__ import annotations

import numpy as np

from ganflow.sampler.errors import InputError, NumericsError
from ganflow.sampler.stages.base import BLOCK, SELECTORS, BlockCache, Context, span

STREAM = 1  # the acceptance uniforms' random stream
STRIDE = 1 << 40  # round r of sample i uses proposal index i + r * STRIDE


@SELECTORS.register("latent-rs")
class LatentRS:
    """For sample index i, proposals i, i + S, i + 2S, ... (S = 2^40) are tried in order and the
    first accepted one is kept; alpha for (i, round r) comes from a seeded per-block stream. So
    sample i does not depend on the batch size or the shard, and the accepted z follow
    p(z) min(1, w(z)/m) / Z: exactly p(z) w(z) / E[w] where w <= m."""

    needs = ("weight",)

    def __init__(self, ctx: Context, propose) -> None:
        self.ctx, self.propose = ctx, propose
        comp = ctx.bundle.component("weight", "latent-rs")
        self.session = ctx.runtime.session(comp)
        self.input = comp.inputs[0]["name"]
        defaults = ctx.bundle.defaults("latent-rs")
        self.m = ctx.options.get("rs_m") or defaults["m"]
        self.max_rounds = ctx.options.get("rs_max_rounds") or defaults["max_rounds"]
        if not (np.isfinite(self.m) and self.m > 0) or int(self.max_rounds) < 1:
            raise InputError(f"latent-rs needs m > 0 and max rounds >= 1, got {self.m}, {self.max_rounds}")
        self.stats = {"latent_rs_m": float(self.m), "proposals": 0, "accepted": 0}
        self.cache = BlockCache(max_entries=128)  # (block, round) -> uniforms [BLOCK]

    def weights(self, z: np.ndarray) -> np.ndarray:
        (w,) = self.session.run(None, {self.input: np.ascontiguousarray(z, dtype=np.float32)})
        if not np.isfinite(w).all():
            raise NumericsError("the weight network returned NaN/inf: the bundle's weight graph is broken")
        return w.reshape(-1)

    def _uniforms(self, lo: int, hi: int, r: int) -> np.ndarray:
        def block(b: int) -> np.ndarray:
            return self.cache.get((b, r), lambda: self.ctx.block_rng(STREAM, b, r).random(BLOCK))

        return span(lo, hi, block)

    def __call__(self, z: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """z [hi - lo, d]: round-0 proposals for samples lo..hi-1 -> the accepted latents."""
        out = np.empty_like(z)
        pending = np.ones(hi - lo, dtype=bool)
        for r in range(int(self.max_rounds)):
            cand = z if r == 0 else self.propose(lo + r * STRIDE, hi + r * STRIDE)
            idx = np.flatnonzero(pending)
            w = self.weights(cand[idx])
            take = self._uniforms(lo, hi, r)[idx] < w / self.m
            out[idx[take]] = cand[idx[take]]
            pending[idx[take]] = False
            self.stats["proposals"] += len(idx)
            self.stats["accepted"] += int(take.sum())
            if not pending.any():
                return out
        rate = self.stats["accepted"] / max(self.stats["proposals"], 1)
        raise NumericsError(
            f"latent-rs: {int(pending.sum())} samples not accepted after {self.max_rounds} rounds "
            f"(acceptance rate {rate:.2%}): lower --rs-m or raise --rs-max-rounds"
        )
