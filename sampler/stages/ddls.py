"""DDLS refinement (Che et al., NeurIPS 2020): latent Langevin dynamics on E(z) = ||z||^2/2 - d(G(z))."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ganflow.sampler.errors import InputError
from ganflow.sampler.ratio import ratio_refusal
from ganflow.sampler.stages.base import REFINERS, StageOptions
from ganflow.sampler.stages.dgflow import DGflow

STREAM = 7  # the Langevin noise (gaussian 0, latent-rs 1, flow 3, dgflow 4, drs 5, mh-gan 6)


@dataclass(frozen=True)
class DDLSOptions(StageOptions):
    prefix = "ddls"
    steps: int | None = None  # Langevin steps
    eps: float | None = None  # step size epsilon


@REFINERS.register("ddls")
class DDLS(DGflow):
    """z <- z - (eps/2) grad E(z) + sqrt(eps) xi with E(z) = ||z||^2/2 - d(G(z)) (Che et al. 2020,
    Langevin sampling of the latent energy: prior N(0, I) times exp(d), d the critic logit, an
    estimate of log p_data/p_G). That is the DGflow step with the prior term -z, f = KL (s = 1),
    eta = eps/2 and gamma = 1 (2 eta gamma = eps), exported as ddls/model.onnx (export/refine.py);
    the stepping (CPU, I/O binding, CUDA graphs) is DGflow's. Noise for sample i, step k comes
    from rng([seed, 7, block(i), k])."""

    needs = ("ddls",)
    Options = DDLSOptions
    unsupported = staticmethod(ratio_refusal)
    method, stream = "ddls", STREAM
    hint = "lower --ddls-eps or --ddls-steps"

    def _configure(self, options: DDLSOptions, defaults: dict) -> tuple[int, float, float, dict]:
        opts = options.resolved(defaults)
        eps, steps = float(opts["eps"]), opts["steps"]
        if not (math.isfinite(eps) and eps > 0) or int(steps) != steps or steps < 0:
            raise InputError(
                f"ddls needs --ddls-eps > 0 and an integer --ddls-steps >= 0, got {eps}, {steps}"
            )
        stats = {"ddls_steps": int(steps), "ddls_eps": eps, "ddls_seconds": 0.0}
        return int(steps), eps / 2, 1.0, stats
