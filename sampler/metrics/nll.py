"""Test NLL of a bundle with a likelihood graph (Flow-GAN), torch-free: nats per image and bits/dim.

Quantised data (a bounded DataSpec.range: 256 levels) is dequantised first, y = (k + U) / 256 with
k the pixel level and U ~ U(0, 1) drawn from a fixed seed (NOISE_SEED), as in the paper
(REFERENCES.md, Flow-GAN). Two conventions, both reported:
- nats per image of the continuous density on [0, 1]^D (the paper's Table 1: negative values):
  NLL = -mean log p_y(y), log p_y = log p_x(x) + D log(hi - lo) for x = lo + (hi - lo) y;
- bits/dim of the discrete data: (NLL + D ln 256) / (D ln 2) (the discrete correction).
Unbounded data (2-D toys) is scored as it is, in nats, and bits/dim without the correction.
"""

from __future__ import annotations

import math

import numpy as np

from ganflow.sampler.errors import NumericsError
from ganflow.sampler.metrics.registry import count_tag, register

NOISE_SEED = 0  # the dequantisation noise of the test images
BATCH = 500
LEVELS = 256


def dequantize(x: np.ndarray, data_range: tuple[float, float], rng: np.random.Generator) -> np.ndarray:
    """Quantised x [N, *shape] in [lo, hi] -> lo + (hi - lo) (k + U) / 256, k = round(255 u)."""
    lo, hi = data_range
    k = np.round((x.astype(np.float64) - lo) * ((LEVELS - 1) / (hi - lo)))
    return lo + (hi - lo) * (k + rng.random(x.shape)) / LEVELS


LIKELIHOOD = ("likelihood", "the nll metric (export a Flow-GAN run)")  # the component nll reads, and why


def log_density(session, name: str, x: np.ndarray) -> np.ndarray:
    """log p(x) [N] (float64) from a likelihood graph, in batches."""
    out = [session.run(None, {name: x[i : i + BATCH].astype(np.float32)})[0] for i in range(0, len(x), BATCH)]
    return np.concatenate(out).astype(np.float64)


def bundle_nll(bundle, runtime, real: np.ndarray, seed: int = NOISE_SEED) -> tuple[float, float]:
    """(NLL nats per example, bits/dim) of real [M, *shape] under the bundle's likelihood graph."""
    comp = bundle.component(*LIKELIHOOD)
    dim = int(np.prod(real.shape[1:]))
    r = bundle.data_range
    x = real if r is None else dequantize(real, r, np.random.default_rng(seed))
    log_px = log_density(runtime.session(comp), comp.inputs[0]["name"], x)
    bad = int((~np.isfinite(log_px)).sum())
    if bad:
        raise NumericsError(f"the likelihood graph gave NaN/inf for {bad} of {len(x)} examples")
    shift = 0.0 if r is None else dim * math.log(r[1] - r[0])
    nats = float(-(log_px + shift).mean())
    bpd = (nats + (dim * math.log(LEVELS) if r is not None else 0.0)) / (dim * math.log(2.0))
    return nats, bpd


@register(
    "nll",
    kinds=("images", "points"),
    needs_bundle=True,
    component=LIKELIHOOD,
    default=False,
    summary="test NLL from the bundle's likelihood graph: nats/image on [0,1]^D and bits/dim (discrete)",
)
def _nll(ev, fake):
    from ganflow.sampler.runtime import Runtime

    nats, bpd = bundle_nll(ev.bundle, Runtime(ev.device), ev.real)
    tag = f"{count_tag(len(ev.real))}_{ev.dataset}-{ev.split}"
    return {f"nll{tag}_nats": nats, f"nll{tag}_bpd": bpd}
