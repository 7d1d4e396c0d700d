"""The seeded-block cache the stages share: LRU bounds, no aliasing, identical draws."""

from __future__ import annotations

import numpy as np

from ganflow.sampler.stages.base import BLOCK, BlockCache, span


def test_lru_bounds_by_entries_and_bytes():
    made = []

    def make(k):
        made.append(k)
        return np.zeros(1000, np.float64)  # 8000 bytes

    c = BlockCache(max_entries=3)
    for k in (0, 1, 2, 0, 3, 0, 1):
        c.get(k, lambda k=k: make(k))
    assert made == [0, 1, 2, 3, 1]  # 0 kept as most recently used; 1 evicted by 3, drawn again
    c = BlockCache(max_entries=100, max_bytes=20_000)
    made.clear()
    for k in (0, 1, 2, 0):
        c.get(k, lambda k=k: make(k))
    assert made == [0, 1, 2, 0]  # at most two 8000-byte blocks fit
    big = BlockCache(max_entries=5, max_bytes=10)
    assert big.get("x", lambda: np.ones(100)).sum() == 100  # one block is kept even if too large


def test_span_copies_and_matches_concatenation():
    c = BlockCache()
    rng = lambda b: np.random.default_rng([7, b]).standard_normal((BLOCK, 3))  # noqa: E731
    block = lambda b: c.get(b, lambda: rng(b))  # noqa: E731
    whole = np.concatenate([rng(0), rng(1), rng(2)])
    for lo, hi in ((0, 1), (5, 70), (1000, 1100), (10, 3 * BLOCK)):
        part = span(lo, hi, block)
        np.testing.assert_array_equal(part, whole[lo:hi])
        part[:] = 0  # a stage may write into its input: the cached blocks stay as drawn
    np.testing.assert_array_equal(span(0, 3 * BLOCK, block), whole)
