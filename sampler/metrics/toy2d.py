"""Torch-free 2-D toy benchmarks (25/8 Gaussians, Swiss roll) and their modes (the mode metrics,
in any dimension, are in metrics/modes.py)."""

from __future__ import annotations

import math

import numpy as np

from ganflow.sampler.errors import InputError
from ganflow.sampler.metrics import modes as _modes
from ganflow.sampler.metrics.modes import KL_EPS, Modes

TOY_NAMES = ("gaussians25", "gaussians8", "swissroll")

ToyModes = Modes  # a toy's modes: centers [M, 2] and std in the final (scaled) coordinates


def _gaussians25() -> ToyModes:
    # REFERENCES.md "Toy 2-D benchmarks" (DRS/DOT/DDLS/DGflow): means {-2,-1,0,1,2}^2 * 2,
    # std 0.05, then means and std divided by 2.828.
    grid = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)], dtype=np.float64)
    return ToyModes("gaussians25", grid * 2.0 / 2.828, 0.05 / 2.828)


def _gaussians8() -> ToyModes:
    # The common 8-Gaussians protocol used by DRS/DOT: 8 means on a circle of radius 2 at
    # angles k*pi/4, std 0.02, then means and std divided by 1.414.
    angles = np.arange(8) * (math.pi / 4.0)
    centers = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return ToyModes("gaussians8", centers / 1.414, 0.02 / 1.414)


TOY_MODES: dict[str, ToyModes] = {"gaussians25": _gaussians25(), "gaussians8": _gaussians8()}
for _m in TOY_MODES.values():
    _m.centers.setflags(write=False)
del _m


def sample_toy(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw `n` data samples of toy set `name` (one of TOY_NAMES) as float32 [n, 2].

    Gaussian mixtures: a uniformly chosen mode plus N(0, std^2) noise. "swissroll": the
    sklearn-style make_swiss_roll (t = 1.5 pi (1 + 2u), (t cos t, 21 v, t sin t), N(0, 0.25^2)
    noise on all three coordinates), columns (0, 2), divided by 7.5.
    """
    if name not in TOY_NAMES:
        raise InputError(f"unknown toy data set {name!r}; choose one of {', '.join(TOY_NAMES)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise InputError(f"the number of toy samples must be an integer >= 0, got {n!r}")
    n = int(n)
    if name == "swissroll":
        t = 1.5 * math.pi * (1.0 + 2.0 * rng.uniform(size=n))
        height = 21.0 * rng.uniform(size=n)
        roll = np.stack([t * np.cos(t), height, t * np.sin(t)], axis=1)
        roll += 0.25 * rng.standard_normal(size=(n, 3))
        return (roll[:, [0, 2]] / 7.5).astype(np.float32)
    modes = TOY_MODES[name]
    idx = rng.integers(len(modes.centers), size=n)
    out = modes.centers[idx] + modes.std * rng.standard_normal(size=(n, 2))
    return out.astype(np.float32)


def mode_metrics(
    samples: np.ndarray, modes: Modes | str, n_std: float = 4.0, *, eps: float = KL_EPS
) -> dict[str, float]:
    """metrics/modes.py's mode_metrics, with `modes` a toy's name (gaussians25, gaussians8) or Modes."""
    if isinstance(modes, str):
        if modes not in TOY_MODES:
            raise InputError(f"toy data set {modes!r} has no modes; choose one of {', '.join(TOY_MODES)}")
        modes = TOY_MODES[modes]
    return _modes.mode_metrics(samples, modes, n_std, eps=eps)
