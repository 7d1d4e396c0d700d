"""LatentRS selection (report Algorithm 2): keep z with probability min(1, w(z) / m)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ganflow.sampler.errors import InputError, NumericsError
from ganflow.sampler.stages.base import SELECTORS, Context, StageOptions
from ganflow.sampler.stages.rejection import RejectionRounds

STREAM = 1  # the acceptance uniforms' random stream


@dataclass(frozen=True)
class LatentRSOptions(StageOptions):
    prefix = "rs"
    m: float | None = None  # accept z w.p. min(1, w(z) / m)
    max_rounds: int | None = None  # proposal rounds per sample before giving up


@SELECTORS.register("latent-rs")
class LatentRS:
    """Per-sample rejection rounds (stages/rejection.py) with acceptance min(1, w(z)/m): the
    accepted z follow p(z) min(1, w(z)/m) / Z, exactly p(z) w(z) / E[w] where w <= m."""

    needs = ("weight",)
    Options = LatentRSOptions

    def __init__(self, ctx: Context, options: LatentRSOptions) -> None:
        comp = ctx.bundle.component("weight", "latent-rs")
        self.session = ctx.runtime.session(comp)
        self.input = comp.inputs[0]["name"]
        opts = options.resolved(ctx.bundle.defaults("latent-rs"))
        self.m, self.max_rounds = opts["m"], opts["max_rounds"]
        if not (np.isfinite(self.m) and self.m > 0) or int(self.max_rounds) < 1:
            raise InputError(f"latent-rs needs m > 0 and max rounds >= 1, got {self.m}, {self.max_rounds}")
        self.stats = {"latent_rs_m": float(self.m), "selection": f"latent-rs (m = {self.m:g})"}
        hint = "lower --rs-m or raise --rs-max-rounds"
        self.rounds = RejectionRounds(ctx, STREAM, self.max_rounds, self.stats, "latent-rs", hint)

    def weights(self, z: np.ndarray) -> np.ndarray:
        (w,) = self.session.run(None, {self.input: np.ascontiguousarray(z, dtype=np.float32)})
        if not np.isfinite(w).all():
            raise NumericsError("the weight network returned NaN/inf: the bundle's weight graph is broken")
        return w.reshape(-1)

    def __call__(self, z: np.ndarray, lo: int, hi: int, propose) -> np.ndarray:
        """z [hi - lo, d]: round-0 proposals for samples lo..hi-1 -> the accepted latents."""
        return self.rounds(z, lo, hi, propose, lambda cand: self.weights(cand) / self.m)
