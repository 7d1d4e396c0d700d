"""100 sampler calls from threads sharing one Runtime (one onnxruntime session per graph)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import Runtime


def _draw(bundle, runtime, seed: int) -> np.ndarray:
    pipe = Pipeline(bundle, runtime, seed=seed)
    return np.concatenate([x for _, _, x in pipe.generate(300, 64)])


def test_threads_share_sessions_and_match_sequential_runs(tiny_bundle):
    bundle = load_bundle(tiny_bundle)
    seeds = [i % 10 for i in range(100)]
    expected = {s: _draw(bundle, Runtime("cpu"), s) for s in set(seeds)}
    shared = Runtime("cpu")
    with ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(lambda s: _draw(bundle, shared, s), seeds))
    for s, x in zip(seeds, results, strict=True):
        np.testing.assert_array_equal(x, expected[s])
    assert len(shared._sessions) == 1  # every thread ran the one generator session
    assert len({id(Pipeline(bundle, shared)._decode.session) for _ in range(3)}) == 1
