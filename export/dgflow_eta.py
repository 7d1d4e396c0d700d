"""The DGflow step size a bundle records, measured at export for its own generator and critic.

DGflow's published eta (0.1, METHOD_DEFAULTS) suits the authors' image GANs; on a 2-D latent it
throws latents far out of the prior (the 25-Gaussians demo: 32% of latents beyond 1.5x their
starting radius, samples at several times the data's extent). So `ganflow export` runs the
refinement in torch (the DGflowStep the refine graph is checked against) on a fixed batch of
LATENTS latents z_0 ~ N(0, I) (seed 0; the bundle's steps, gamma and f) for eta = the default,
then each smaller value of ETA_GRID down to 1e-4, and keeps the largest eta for which no refined
sample is far (sampler/stages/dgflow.py: |z_K| > 1.5 max(|z_0|, sqrt(d) + 3) in the latent space,
or G(z_K) farther than 1.5x the spread of G(z_0) around its mean in the data space). It uses no
data, so no test split. If none passes, the smallest is kept and export says so. The manifest
gets that eta as defaults.dgflow.eta (the one place defaults live; old bundles keep theirs) and
the measurement as provenance.dgflow_eta; `ganflow info` prints both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from ganflow.sampler.stages.dgflow import FAR_MARGIN, far_latents, far_samples

ETA_GRID = (0.1, 0.03, 0.01, 0.003, 0.001, 0.0003, 0.0001)
LATENTS = 256  # the batch the step size is measured on (a few seconds per eta for an MNIST DCGAN)
SEED = 0
RULE = (
    f"the largest eta, from the default down, for which none of the refined samples is far: "
    f"|z_K| > {FAR_MARGIN} max(|z_0|, sqrt(d) + 3), or |G(z_K) - m| > {FAR_MARGIN} max |G(z_0) - m| "
    "with m the mean of G(z_0); z_0 ~ N(0, I), seed 0, no data"
)


def _refine(step: nn.Module, z0: torch.Tensor, noise: torch.Tensor, eta: float, gamma: float) -> torch.Tensor:
    """K = len(noise) DGflow steps of z0 [N, d] (noise [K, N, d]); stops early once non-finite."""
    z, e, g = z0, torch.tensor(eta), torch.tensor(gamma)
    for xi in noise:
        z = step(z, xi, e, g).detach()
        if not torch.isfinite(z).all():
            break
    return z


def far_share(step: nn.Module, z0: torch.Tensor, noise: torch.Tensor, eta: float, gamma: float) -> float:
    """The share of LATENTS refined latents (or their samples) that end far (the module's rule)."""
    with torch.no_grad():
        x0 = step.generator(z0)
    z = _refine(step, z0, noise, eta, gamma)
    far = far_latents(z0.numpy(), z.numpy())
    if np.isfinite(z.numpy()).all():
        with torch.no_grad():
            far |= far_samples(x0.numpy(), step.generator(z).numpy())
    return float(far.mean())


def measure_eta(step: nn.Module, latent_dim: int, defaults: dict[str, Any], log: Callable = print) -> dict:
    """The record of provenance.dgflow_eta: the eta chosen and the share of far samples per eta
    tried. `step`: the eval-mode DGflowStep (export/refine.py); `defaults`: the bundle's dgflow
    defaults (eta, gamma, steps)."""
    gen = torch.Generator().manual_seed(SEED)
    z0 = torch.randn(LATENTS, latent_dim, generator=gen)
    noise = torch.randn(int(defaults["steps"]), LATENTS, latent_dim, generator=gen)
    start = float(defaults["eta"])
    grid = [start, *(e for e in ETA_GRID if e < start)]
    tried: list[float] = []
    for eta in grid:
        tried.append(round(far_share(step, z0, noise, eta, float(defaults["gamma"])), 6))
        if tried[-1] == 0.0:
            break
    chosen = grid[len(tried) - 1]
    if tried[-1] > 0:
        log(
            f"dgflow: every eta down to {chosen:g} moved samples far ({tried[-1]:.1%} at {chosen:g}); "
            f"keeping {chosen:g}"
        )
    elif chosen != start:
        log(
            f"dgflow: eta {start:g} moved {tried[0]:.1%} of {LATENTS} samples far; "
            f"this bundle's default is {chosen:g}"
        )
    return {
        "eta": chosen,
        "grid": grid[: len(tried)],
        "far": tried,
        "latents": LATENTS,
        "steps": int(defaults["steps"]),
        "gamma": float(defaults["gamma"]),
        "rule": RULE,
    }
