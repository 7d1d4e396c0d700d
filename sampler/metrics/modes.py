"""Mode metrics of samples against a mixture of equally weighted isotropic Gaussians in any
dimension: the 2-D toys' centers, or centers the user gives (`ganflow eval --centers c.npy`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganflow.sampler.errors import InputError

# A [rows, M, D] float64 difference block per chunk of samples stays under this many bytes.
_CHUNK_BYTES = 1 << 26
_MAX_ROWS = 65536

# Probability floor for the model's mode histogram in kl_modes, so a missing mode costs a large
# but finite log(M / eps)-sized penalty instead of infinity.
KL_EPS = 1e-6


@dataclass(frozen=True)
class Modes:
    """Equally weighted isotropic Gaussian modes: centers [M, D], per-coordinate std."""

    name: str
    centers: np.ndarray  # [M, D]
    std: float
    tag: str = ""  # appended to metric names: "" for a toy's own modes, "_<centers file>" else


def _nearest_sq(x: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest center [N], squared distance to it [N]) for x [N, D], chunk by chunk;
    non-finite rows get distance inf."""
    m, d = centers.shape
    rows = max(1, min(_MAX_ROWS, _CHUNK_BYTES // (8 * m * d)))
    nearest, dist = np.empty(len(x), np.int64), np.empty(len(x))
    for start in range(0, len(x), rows):
        chunk = np.asarray(x[start : start + rows], dtype=np.float64)
        d2 = ((chunk[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)  # [rows, M]
        d2[~np.isfinite(chunk).all(axis=1)] = np.inf
        k = d2.argmin(axis=1)
        nearest[start : start + len(chunk)] = k
        dist[start : start + len(chunk)] = d2[np.arange(len(chunk)), k]
    return nearest, dist


def mode_metrics(samples: np.ndarray, modes: Modes, n_std: float = 4.0, *, eps: float = KL_EPS) -> dict:
    """Mode-based quality of samples [N, D] against `modes` (centers [M, D]).

    Each sample is assigned to its nearest center (Euclidean); it is high quality (HQ) if that
    distance is <= n_std * std. NaN/inf samples are never HQ. Returns

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
    x = np.asarray(samples)
    centers = np.asarray(modes.centers, dtype=np.float64)
    m, dim = centers.shape
    if x.ndim != 2 or x.shape[1] != dim:
        raise InputError(f"mode_metrics needs samples of shape [N, {dim}], got {list(x.shape)}")
    if not n_std > 0:
        raise InputError(f"n_std must be > 0, got {n_std}")
    nearest, d2 = _nearest_sq(x, centers)
    hq = d2 <= (n_std * modes.std) ** 2
    counts = np.bincount(nearest[hq], minlength=m)
    n, n_hq = len(x), int(counts.sum())
    kl = math.nan
    if n_hq > 0:
        q = (counts / n_hq + eps) / (1.0 + m * eps)
        kl = float(np.sum((1.0 / m) * np.log((1.0 / m) / q)))
    return {
        "hq_rate": n_hq / n if n else math.nan,
        "modes_covered": float(np.count_nonzero(counts)),
        "kl_modes": kl,
        "n": n,
    }


def estimate_std(x: np.ndarray, centers: np.ndarray) -> float:
    """The per-coordinate std of isotropic modes from data x [N, D]: sqrt(mean over x of the squared
    distance to its nearest center / D) (E||x - c||^2 = D std^2 for x ~ N(c, std^2 I))."""
    _, d2 = _nearest_sq(x, np.asarray(centers, dtype=np.float64))
    return float(np.sqrt(d2[np.isfinite(d2)].mean() / centers.shape[1]))


def load_centers(path: str | Path, dim: int) -> np.ndarray:
    """Mode centers [M, dim] from an .npy file, checked."""
    try:
        c = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        why = " ".join(str(e).split())[:120]
        raise InputError(f"cannot read --centers {path} ({why}): save [M, D] centers with numpy") from None
    if not isinstance(c, np.ndarray):
        c.close()
        raise InputError(f"--centers {path} is an .npz: save the centers [M, D] as an .npy")
    if c.ndim == 1 and dim == 1:
        c = c[:, None]
    if c.dtype.kind not in "iuf" or c.ndim != 2 or c.shape[1] != dim or len(c) < 1:
        raise InputError(
            f"--centers {path} holds {c.dtype} {list(c.shape)}: the data needs centers [M, {dim}]"
        )
    if not np.isfinite(c).all():
        raise InputError(f"--centers {path} holds NaN or inf: give finite centers")
    return c.astype(np.float64)
