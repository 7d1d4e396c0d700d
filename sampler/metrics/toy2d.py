"""Torch-free 2-D toy benchmarks (25/8 Gaussians, Swiss roll) and their mode-based metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ganflow.sampler.errors import InputError

TOY_NAMES = ("gaussians25", "gaussians8", "swissroll")

# Rows per chunk in mode_metrics: a [chunk, M] float64 distance matrix (25 modes: ~13 MB).
_CHUNK = 65536

# Probability floor for the model's mode histogram in kl_modes, so a missing mode costs a large
# but finite log(M / eps)-sized penalty instead of infinity.
KL_EPS = 1e-6


@dataclass(frozen=True)
class ToyModes:
    """A Gaussian-mixture toy data set: equally weighted isotropic modes."""

    name: str
    centers: np.ndarray  # [M, 2], final (scaled) coordinates
    std: float  # per-mode std in the final (scaled) coordinates


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
    samples: np.ndarray,
    modes: ToyModes | str,
    n_std: float = 4.0,
    *,
    eps: float = KL_EPS,
) -> dict[str, float]:
    """Mode-based quality of 2-D samples against a Gaussian-mixture toy set.

    Each sample is assigned to its nearest mode centre (Euclidean); it is high quality (HQ)
    if that distance is <= n_std * std. NaN/inf samples are never HQ. Returns

    - "hq_rate": HQ samples / all samples (NaN when there are no samples),
    - "modes_covered": number of modes with at least one HQ sample (a float),
    - "kl_modes": KL(p_data || p_model) = sum_j u_j log(u_j / q_j) with u the uniform data
      mode distribution and q the histogram of HQ samples over modes, smoothed as
      q = (q + eps) / (1 + M eps); about 0 for data samples, about
      (missing modes / M) * log(1 / (M eps)) when modes are missing (~10 for a collapse onto
      one of 25 modes); NaN when there is no HQ sample at all,
    - "n": the number of samples.

    Works in chunks, so 1e6+ samples need only a few MB beyond the input.
    """
    # Direction: the brief's KL(p_data || p_model), which punishes missing modes hard. We could
    # not confirm from the DOT/DDLS/DGflow texts available here which direction (or smoothing)
    # those papers used for their mode-histogram KL, so compare across papers with care.
    if isinstance(modes, str):
        if modes not in TOY_MODES:
            raise InputError(f"toy data set {modes!r} has no modes; choose one of {', '.join(TOY_MODES)}")
        modes = TOY_MODES[modes]
    x = np.asarray(samples)
    if x.ndim != 2 or x.shape[1] != 2:
        raise InputError(f"mode_metrics needs samples of shape [N, 2], got {list(x.shape)}")
    if not n_std > 0:
        raise InputError(f"n_std must be > 0, got {n_std}")
    centers = np.asarray(modes.centers, dtype=np.float64)
    m = len(centers)
    threshold_sq = (n_std * modes.std) ** 2
    counts = np.zeros(m, dtype=np.int64)
    n = len(x)
    for start in range(0, n, _CHUNK):
        chunk = x[start : start + _CHUNK].astype(np.float64)
        d2 = ((chunk[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)  # [chunk, M]
        finite = np.isfinite(chunk).all(axis=1)
        d2[~finite] = np.inf
        nearest = d2.argmin(axis=1)
        hq = d2[np.arange(len(chunk)), nearest] <= threshold_sq
        counts += np.bincount(nearest[hq], minlength=m)
    n_hq = int(counts.sum())
    if n_hq > 0:
        q = (counts / n_hq + eps) / (1.0 + m * eps)
        kl = float(np.sum((1.0 / m) * np.log((1.0 / m) / q)))
    else:
        kl = math.nan
    return {
        "hq_rate": n_hq / n if n else math.nan,
        "modes_covered": float(np.count_nonzero(counts)),
        "kl_modes": kl,
        "n": n,
    }
