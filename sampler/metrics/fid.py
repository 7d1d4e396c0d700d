"""Frechet distance between Gaussian fits of two feature sets (FID, Heusel et al. 2017), numpy only."""

from __future__ import annotations

import numpy as np

# A final FID below -_NEG_TOL is not rounding error: the covariances are not PSD or the eigensolver failed.
_NEG_TOL = 1e-6
# Eigenvalues of sqrt(S1) S2 sqrt(S1) below -_EIG_RTOL * max|eigenvalue| mean S1 or S2 is not PSD.
_EIG_RTOL = 1e-8


def feature_stats(features: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Mean [D] and unbiased covariance [D, D] (float64) of `features` [N, D], N >= 2: the centred
    products summed `chunk` rows at a time, so no float64 copy of all N x D features is made."""
    f = np.asarray(features)
    if f.ndim != 2:
        raise ValueError(f"features must be 2-D [N, D], got shape {f.shape}")
    if f.shape[0] < 2 or f.shape[1] < 1:
        raise ValueError(f"need at least 2 rows and 1 column for a covariance, got shape {f.shape}")
    if not np.all(np.isfinite(f)):
        raise ValueError("features contain NaN or inf")
    n = f.shape[0]
    mu = f.sum(axis=0, dtype=np.float64) / n
    sigma = np.zeros((f.shape[1], f.shape[1]))
    for lo in range(0, n, chunk):
        c = f[lo : lo + chunk].astype(np.float64) - mu
        sigma += c.T @ c
    return mu, sigma / (n - 1)


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix [D, D] (negative eigenvalues clipped to 0)."""
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _check_gaussian(mu: np.ndarray, sigma: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    sigma = np.atleast_2d(np.asarray(sigma, dtype=np.float64))
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"{name}: mean must be [D] and covariance [D, D]; got {mu.shape} and {sigma.shape}")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise ValueError(f"{name}: mean or covariance contains NaN or inf")
    return mu, 0.5 * (sigma + sigma.T)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet (2-Wasserstein^2) distance between N(mu1 [D], sigma1 [D, D]) and N(mu2 [D], sigma2 [D, D]).

    d^2 = ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))  (Heusel et al. 2017, eq. 6).

    Without scipy's sqrtm: S1 S2 is similar to A = S1^(1/2) S2 S1^(1/2) (symmetric PSD), so
    Tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(A)). S1^(1/2) comes from np.linalg.eigh (negative eigenvalues
    clipped to 0) and tiny negative eigenvalues of A (rounding) are clipped to 0. Raises ValueError when a
    covariance is clearly not PSD or the result is below -1e-6 (numerical failure); otherwise returns
    max(value, 0).
    """
    mu1, s1 = _check_gaussian(mu1, sigma1, "first")
    mu2, s2 = _check_gaussian(mu2, sigma2, "second")
    if mu1.shape != mu2.shape:
        raise ValueError(f"dimension mismatch: {mu1.shape[0]} vs {mu2.shape[0]}")
    for s, name in ((s1, "first"), (s2, "second")):
        w = np.linalg.eigvalsh(s)
        if w.min() < -_EIG_RTOL * max(np.abs(w).max(), np.finfo(np.float64).tiny):
            raise ValueError(
                f"{name} covariance is not positive semi-definite (min eigenvalue {w.min():.3g})"
            )
    r1 = _psd_sqrt(s1)
    a = r1 @ s2 @ r1
    lam = np.linalg.eigvalsh(0.5 * (a + a.T))
    scale = max(np.abs(lam).max(), np.finfo(np.float64).tiny)
    if lam.min() < -_EIG_RTOL * scale:
        raise ValueError(f"numerical failure: sqrt(S1) S2 sqrt(S1) has eigenvalue {lam.min():.3g}")
    tr_covmean = float(np.sqrt(np.clip(lam, 0.0, None)).sum())
    diff = mu1 - mu2
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)
    # rounding error grows with the size of the terms being cancelled: tolerate it relative to them
    tol = _NEG_TOL * max(1.0, float(np.trace(s1) + np.trace(s2)))
    if not np.isfinite(value) or value < -tol:
        raise ValueError(f"numerical failure: Frechet distance came out as {value:.6g}")
    return max(value, 0.0)


def fid_from_features(f1: np.ndarray, f2: np.ndarray) -> float:
    """FID between feature sets f1 [N1, D] and f2 [N2, D]: frechet_distance of their feature_stats."""
    mu1, s1 = feature_stats(f1)
    mu2, s2 = feature_stats(f2)
    return frechet_distance(mu1, s1, mu2, s2)
