"""k-NN precision/recall (Kynkaanniemi et al. 2019) and density/coverage (Naeem et al. 2020), numpy only."""

from __future__ import annotations

import numpy as np

# one float64 distance block [rows, N] holds at most this many bytes: a block, its a.b product and
# a few boolean masks of it are what the metric holds at once (about 2.5 blocks)
BLOCK_BYTES = 16 << 20


def block_rows(chunk: int, n: int) -> int:
    """Rows per distance block against n points: at most `chunk`, and at most BLOCK_BYTES."""
    return max(1, min(chunk, BLOCK_BYTES // (8 * max(n, 1))))


def _sq_norms(a: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, a)


def _sq_dists(a: np.ndarray, a2: np.ndarray, b: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances [len(a), len(b)] via ||a||^2 + ||b||^2 - 2 a.b, clipped at 0.

    In place, with the operations of (a2 + b2) - 2.0 * (a @ b.T) in that order (so the same values,
    bit for bit): two blocks are held, not the four temporaries of the expression."""
    d = np.add.outer(a2, b2)
    ab = a @ b.T
    ab *= 2.0
    d -= ab
    del ab
    np.maximum(d, 0.0, out=d)
    return d


def _knn_sq_radii(x: np.ndarray, x2: np.ndarray, ks: tuple[int, ...], chunk: int) -> list[np.ndarray]:
    """Squared distance from each row of x [N, D] to its k-th nearest other row, for each k in ks."""
    n = x.shape[0]
    out = [np.empty(n) for _ in ks]
    kth = sorted({k - 1 for k in ks})
    chunk = block_rows(chunk, n)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        d = _sq_dists(x[start:stop], x2[start:stop], x, x2)  # [c, N]
        rows = np.arange(stop - start)
        d[rows, rows + start] = np.inf  # exclude the point itself
        d.partition(kth, axis=1)  # in place: no copy of the block
        for o, k in zip(out, ks, strict=True):
            o[start:stop] = d[:, k - 1]
    return out


def prdc(
    real: np.ndarray, fake: np.ndarray, k_pr: int = 3, k_dc: int = 5, chunk: int = 2048
) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake` [M, D] against `real` [N, D].

    NND_k(x) is the distance from x to its k-th nearest neighbour in its own set, the point itself
    excluded; B(x, r) is the closed ball (a point on the boundary counts as inside).
      precision = (1/M) sum_j 1[exists i: Y_j in B(X_i, NND_kpr(X_i))]      (Kynkaanniemi et al. 2019)
      recall    = (1/N) sum_i 1[exists j: X_i in B(Y_j, NND_kpr(Y_j))]      (same, k = 3)
      density   = 1/(k M) sum_j sum_i 1[Y_j in B(X_i, NND_kdc(X_i))]        (Naeem et al. 2020, k = 5)
      coverage  = (1/N) sum_i 1[exists j: Y_j in B(X_i, NND_kdc(X_i))]      (same)
    Distances are float64 and computed at most `chunk` rows at a time, and at most BLOCK_BYTES
    (16 MiB) per block, so no distance matrix larger than that is ever held: 10k x 10k points
    evaluate in about 40 MiB above the inputs (benchmarks/eval_memory.py).
    Raises ValueError for non-2-D or non-finite inputs, a dimension mismatch, N <= max(k_pr, k_dc) or
    M <= k_pr.
    """
    x = np.asarray(real, dtype=np.float64)
    y = np.asarray(fake, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2:
        raise ValueError(f"real and fake must be 2-D [N, D] / [M, D], got shapes {x.shape} and {y.shape}")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"feature dimension mismatch: real has D={x.shape[1]}, fake has D={y.shape[1]}")
    for k, name in ((k_pr, "k_pr"), (k_dc, "k_dc"), (chunk, "chunk")):
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"{name} must be a positive integer, got {k!r}")
    n, m = x.shape[0], y.shape[0]
    if n <= max(k_pr, k_dc):
        raise ValueError(f"need more than max(k_pr, k_dc) = {max(k_pr, k_dc)} real points, got N={n}")
    if m <= k_pr:
        raise ValueError(f"need more than k_pr = {k_pr} fake points, got M={m}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("real or fake contains NaN or inf")

    x2, y2 = _sq_norms(x), _sq_norms(y)
    r_real_pr, r_real_dc = _knn_sq_radii(x, x2, (k_pr, k_dc), chunk)
    (r_fake_pr,) = _knn_sq_radii(y, y2, (k_pr,), chunk)

    precise = np.zeros(m, dtype=bool)  # fake j inside some real k_pr-ball
    recalled = np.zeros(n, dtype=bool)  # real i inside some fake k_pr-ball
    density_count = 0  # sum over (j, i) of fake j inside real i's k_dc-ball
    covered = np.zeros(n, dtype=bool)  # real i's k_dc-ball holds some fake
    chunk = block_rows(chunk, n)
    for start in range(0, m, chunk):
        stop = min(start + chunk, m)
        d = _sq_dists(y[start:stop], y2[start:stop], x, x2)  # [c, N]
        precise[start:stop] = (d <= r_real_pr[None, :]).any(axis=1)
        recalled |= (d <= r_fake_pr[start:stop, None]).any(axis=0)
        in_dc = d <= r_real_dc[None, :]
        density_count += int(in_dc.sum())
        covered |= in_dc.any(axis=0)
    return {
        "precision": float(precise.mean()),
        "recall": float(recalled.mean()),
        "density": density_count / (k_dc * m),
        "coverage": float(covered.mean()),
    }
