"""Bounded evaluation memory (issue 17): PRDC in distance blocks of at most BLOCK_BYTES and feature
batches of BATCH images, with the metric values of the unbounded code (within 1e-6 relative)."""

from __future__ import annotations

import numpy as np
import pytest

import ganflow.sampler.metrics.prdc as prdc_mod
from ganflow.sampler.metrics import FeatureNet
from ganflow.sampler.metrics.features import BATCH
from ganflow.sampler.metrics.prdc import prdc


def _old_sq_dists(a, a2, b, b2):
    """The code before the change: four [rows, N] temporaries."""
    d = a2[:, None] + b2[None, :] - 2.0 * (a @ b.T)
    np.maximum(d, 0.0, out=d)
    return d


def _old_knn(x, x2, ks, chunk):
    out, kth = [np.empty(len(x)) for _ in ks], sorted({k - 1 for k in ks})
    for start in range(0, len(x), chunk):
        stop = min(start + chunk, len(x))
        d = _old_sq_dists(x[start:stop], x2[start:stop], x, x2)
        rows = np.arange(stop - start)
        d[rows, rows + start] = np.inf
        part = np.partition(d, kth, axis=1)
        for o, k in zip(out, ks, strict=True):
            o[start:stop] = part[:, k - 1]
    return out


def _old_prdc(real, fake, k_pr=3, k_dc=5, chunk=2048):
    x, y = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    x2, y2 = np.einsum("ij,ij->i", x, x), np.einsum("ij,ij->i", y, y)
    r_pr, r_dc = _old_knn(x, x2, (k_pr, k_dc), chunk)
    (f_pr,) = _old_knn(y, y2, (k_pr,), chunk)
    precise, recalled = np.zeros(len(y), bool), np.zeros(len(x), bool)
    covered, count = np.zeros(len(x), bool), 0
    for start in range(0, len(y), chunk):
        stop = min(start + chunk, len(y))
        d = _old_sq_dists(y[start:stop], y2[start:stop], x, x2)
        precise[start:stop] = (d <= r_pr[None]).any(axis=1)
        recalled |= (d <= f_pr[start:stop, None]).any(axis=0)
        count += int((d <= r_dc[None]).sum())
        covered |= (d <= r_dc[None]).any(axis=0)
    return {
        "precision": precise.mean(),
        "recall": recalled.mean(),
        "density": count / (k_dc * len(y)),
        "coverage": covered.mean(),
    }


@pytest.mark.parametrize("dim,n,m", [(2, 5000, 4000), (64, 3000, 2000)])
def test_prdc_in_small_blocks_gives_the_old_values(monkeypatch, dim, n, m):
    rng = np.random.default_rng(dim)
    real = rng.standard_normal((n, dim)).astype(np.float32)
    fake = (1.1 * rng.standard_normal((m, dim)) + 0.1).astype(np.float32)
    want = _old_prdc(real, fake)
    sizes: list[int] = []
    original = prdc_mod._sq_dists

    def recording(*args):
        d = original(*args)
        sizes.append(d.nbytes)
        return d

    monkeypatch.setattr(prdc_mod, "BLOCK_BYTES", 1 << 20)  # 1 MiB blocks: many of them here
    monkeypatch.setattr(prdc_mod, "_sq_dists", recording)
    got = prdc(real, fake)
    assert max(sizes) <= 1 << 20 and len(sizes) > 100  # many blocks, none above the bound
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-6, abs=0), k


def test_block_rows_bounds_the_block():
    assert prdc_mod.block_rows(2048, 10_000) * 10_000 * 8 <= prdc_mod.BLOCK_BYTES
    assert prdc_mod.block_rows(7, 10) == 7 and prdc_mod.block_rows(2048, 10**12) == 1


def test_feature_batches_give_the_same_features():
    """The default MNIST classifier at BATCH images per call vs 500 (the old batch)."""
    x = np.random.default_rng(0).uniform(-1, 1, (700, 1, 28, 28)).astype(np.float32)
    small, large = FeatureNet(), FeatureNet(batch_size=500)
    assert small.batch_size == BATCH < 500
    a, b = small(x), large(x)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-6, atol=1e-6 * np.abs(b[k]).max())
