"""DRS selection (Azadi et al., ICLR 2019, Discriminator Rejection Sampling): keep z w.p. sigmoid(F(G(z)))."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ganflow.sampler.errors import InputError
from ganflow.sampler.ratio import LogRatio, ratio_refusal
from ganflow.sampler.stages.base import BLOCK, SELECTORS, Context, NoOptions, StageOptions
from ganflow.sampler.stages.decode import Decoder
from ganflow.sampler.stages.rejection import HELD_OUT, RejectionRounds

STREAM = 5  # the acceptance uniforms (gaussian 0, latent-rs 1, flow 3, dgflow 4)
EPS = 1e-6  # DRS's epsilon inside the log (numerical stability: F stays finite at D = D*_max)


@dataclass(frozen=True)
class DRSOptions(StageOptions):
    prefix = "drs"
    percentile: float | None = None  # gamma = this percentile of F(x) (gamma = 0) over the burn-in
    gamma: float | None = None  # an explicit gamma (overrides percentile)
    burn_in: int | None = None  # proposals that fix D*_max (and gamma)
    max_rounds: int | None = None  # proposal rounds per sample before giving up


def drs_f(d: np.ndarray, d_max: float, gamma: float) -> np.ndarray:
    """F(x) = D(x) - D*_max - log(1 - exp(D(x) - D*_max - eps)) - gamma (Azadi et al. 2019,
    the practical scheme's F, Algorithm 1; D the logit, an estimate of log p_data/p_G + const). With gamma = 0
    and eps -> 0, sigmoid(F) = exp(D - D*_max): exact rejection sampling. D - D*_max is clipped at 0
    (a logit above the burn-in's maximum is accepted w.p. ~1, as the paper's running maximum does)."""
    t = np.minimum(d - d_max, 0.0) - EPS
    return t + EPS - np.log(-np.expm1(t)) - gamma


@SELECTORS.register("drs")
class DRS:
    """Per-sample rejection rounds (stages/rejection.py) with acceptance sigmoid(F(G(z))).

    D*_max, and gamma when not given, come from a burn-in done once, on the first call, on a fixed
    seeded set of `burn_in` proposals (sample indices 2^62 + j of the pipeline's own proposal
    stage) and stay fixed; the paper's running maximum, updated as larger logits are seen, would
    make sample i depend on the samples drawn before it (the batch and the shard)."""

    needs = ("generator", "critic")
    Options = DRSOptions
    unsupported = staticmethod(ratio_refusal)

    def __init__(self, ctx: Context, options: DRSOptions) -> None:
        opts = options.resolved(ctx.bundle.defaults("drs"))
        self.percentile, self.gamma_given = float(opts["percentile"]), opts["gamma"]
        self.burn_in, max_rounds = opts["burn_in"], opts["max_rounds"]
        if not 0 <= self.percentile <= 100 or (
            self.gamma_given is not None and not math.isfinite(self.gamma_given)
        ):
            raise InputError(
                f"drs needs 0 <= --drs-percentile <= 100 and a finite --drs-gamma, got {self.percentile}, "
                f"{self.gamma_given}"
            )
        if int(self.burn_in) < 1 or int(max_rounds) < 1:
            raise InputError(
                f"drs needs --drs-burn-in >= 1 and --drs-max-rounds >= 1, got {self.burn_in}, {max_rounds}"
            )
        self.ratio = LogRatio(ctx.bundle, ctx.runtime, Decoder(ctx, NoOptions()), "drs")
        self.d_max: float | None = None
        self.gamma: float | None = None
        self.stats = {"selection": "drs"}
        hint = "raise --drs-max-rounds, or lower --drs-percentile or --drs-gamma"
        self.rounds = RejectionRounds(ctx, STREAM, max_rounds, self.stats, "drs", hint)

    def _calibrate(self, propose) -> None:
        """D*_max and gamma from the burn-in proposals (once)."""
        n = int(self.burn_in)
        d = np.concatenate(
            [
                self.ratio.of_z(propose(HELD_OUT + lo, HELD_OUT + min(lo + BLOCK, n)))
                for lo in range(0, n, BLOCK)
            ]
        )
        self.d_max = float(d.max())
        given = self.gamma_given
        self.gamma = (
            float(np.percentile(drs_f(d, self.d_max, 0.0), self.percentile))
            if given is None
            else float(given)
        )
        self.stats.update(
            drs_logit_max=self.d_max,
            drs_gamma=self.gamma,
            selection=f"drs (gamma = {self.gamma:.3g}, D*_max = {self.d_max:.3g})",
        )

    def accept(self, z: np.ndarray) -> np.ndarray:
        """sigmoid(F(G(z))) [N]."""
        f = drs_f(self.ratio.of_z(z), self.d_max, self.gamma)
        return 0.5 * (1.0 + np.tanh(0.5 * f))  # sigmoid, overflow-free

    def __call__(self, z: np.ndarray, lo: int, hi: int, propose) -> np.ndarray:
        """z [hi - lo, d]: round-0 proposals for samples lo..hi-1 -> the accepted latents."""
        if self.d_max is None:
            self._calibrate(propose)
        return self.rounds(z, lo, hi, propose, self.accept)
