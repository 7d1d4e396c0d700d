"""Classifier-based sample scores: Inception score (Salimans et al. 2016) and MODE score (Che et al. 2017)."""

from __future__ import annotations

import numpy as np

# Added inside every log so that zero probabilities give finite (large) KL terms.
EPS = 1e-12


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of `logits` [N, C] (max-shifted for stability) as float64 [N, C]."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _probs(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 1 or z.shape[1] < 1:
        raise ValueError(f"logits must be 2-D [N, C] with N, C >= 1, got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits contain NaN or inf")
    return softmax(z)


def _kl_rows(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) = sum_y p log(p / q) along the last axis, with EPS inside both logs."""
    return np.sum(p * (np.log(p + EPS) - np.log(q + EPS)), axis=-1)


def inception_score(logits: np.ndarray, splits: int = 1) -> tuple[float, float]:
    """Inception score exp(E_x KL(p(y|x) || p(y))) from classifier `logits` [N, C] (Salimans et al. 2016).

    p(y|x) = softmax(logits); p(y) is the mean of p(y|x) over each split. The N rows are cut into
    `splits` near-equal consecutive parts (np.array_split); returns (mean, std) of the per-split scores
    (population std as in the reference implementation; 0.0 for one split).
    """
    p = _probs(logits)
    n = p.shape[0]
    if not isinstance(splits, (int, np.integer)) or not 1 <= splits <= n:
        raise ValueError(f"splits must be an integer in [1, N={n}], got {splits!r}")
    scores = []
    for part in np.array_split(p, int(splits), axis=0):
        py = part.mean(axis=0, keepdims=True)
        scores.append(float(np.exp(_kl_rows(part, py).mean())))
    s = np.asarray(scores)
    return float(s.mean()), (float(s.std()) if len(s) > 1 else 0.0)


def mode_score(logits: np.ndarray, prior: np.ndarray | None = None) -> float:
    """MODE score exp(E_x KL(p(y|x) || p*(y)) - KL(p*(y) || p(y))) from `logits` [N, C].

    As written in REFERENCES.md / the Flow-GAN slides (after Che et al. 2017): p(y|x) = softmax(logits),
    p(y) the marginal of the samples (mean of p(y|x)), p*(y) uniform over the C classes unless `prior`
    [C] (e.g. the training label frequencies; normalised to sum 1) is given. EPS = 1e-12 inside logs.
    """
    p = _probs(logits)
    c = p.shape[1]
    if prior is None:
        pstar = np.full(c, 1.0 / c)
    else:
        pstar = np.asarray(prior, dtype=np.float64)
        if pstar.shape != (c,):
            raise ValueError(f"prior must have shape ({c},), got {pstar.shape}")
        if not np.all(np.isfinite(pstar)) or np.any(pstar < 0) or pstar.sum() <= 0:
            raise ValueError("prior must be finite, non-negative and not all zero")
        pstar = pstar / pstar.sum()
    py = p.mean(axis=0)
    value = _kl_rows(p, pstar[None, :]).mean() - _kl_rows(pstar, py)
    return float(np.exp(value))
