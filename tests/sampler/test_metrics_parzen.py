"""Tests for the torch-free Parzen-window metric, and that metric modules import without torch/scipy."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from ganflow.sampler.metrics.parzen import (
    DEFAULT_SIGMAS,
    parzen_eval,
    parzen_log_likelihood,
    select_bandwidth,
)

# ----------------------------------------------------------------------------------------- Parzen


def test_parzen_single_kernel_exact() -> None:
    d, sigma = 3, 0.7
    ll = parzen_log_likelihood(np.zeros((1, d)), np.zeros((1, d)), sigma)
    assert ll.shape == (1,) and ll.dtype == np.float64
    assert ll[0] == pytest.approx(-d / 2 * math.log(2 * math.pi * sigma**2), rel=1e-14)


def test_parzen_far_point_no_underflow() -> None:
    # Two kernels on the same centre, x at distance 1000 with sigma 0.1: exp underflows, logsumexp not.
    d, sigma = 2, 0.1
    samples = np.zeros((2, d))
    x = np.array([[1000.0, 0.0]])
    expected = -(1000.0**2) / (2 * sigma**2) - d / 2 * math.log(2 * math.pi * sigma**2)
    assert parzen_log_likelihood(samples, x, sigma)[0] == pytest.approx(expected, rel=1e-12)


def test_parzen_matches_direct_sum_and_chunking() -> None:
    rng = np.random.default_rng(0)
    samples, x = rng.standard_normal((37, 3)), rng.standard_normal((23, 3))
    sigma = 0.8
    direct = []
    for xi in x:
        dens = [
            math.exp(-float(np.sum((xi - s) ** 2)) / (2 * sigma**2)) / (2 * math.pi * sigma**2) ** 1.5
            for s in samples
        ]
        direct.append(math.log(sum(dens) / len(samples)))
    np.testing.assert_allclose(parzen_log_likelihood(samples, x, sigma), direct, rtol=1e-12)
    np.testing.assert_allclose(parzen_log_likelihood(samples, x, sigma, chunk=4), direct, rtol=1e-12)


def test_parzen_gaussian_close_to_negative_entropy() -> None:
    rng = np.random.default_rng(1)
    d = 2
    samples = rng.standard_normal((5000, d))
    valid, test = rng.standard_normal((2000, d)), rng.standard_normal((5000, d))
    out = parzen_eval(samples, valid, test)
    assert set(out) == {"sigma", "log_likelihood", "log_likelihood_sem"}
    assert out["log_likelihood"] == pytest.approx(-d / 2 * math.log(2 * math.pi * math.e), abs=0.1)
    assert 0 < out["log_likelihood_sem"] < 0.05
    assert DEFAULT_SIGMAS[0] < out["sigma"] < DEFAULT_SIGMAS[-1]


def test_select_bandwidth_inside_grid_and_argmax() -> None:
    rng = np.random.default_rng(2)
    samples, valid = rng.standard_normal((1000, 2)), rng.standard_normal((500, 2))
    sigmas = np.logspace(-2, 1, 10)
    best = select_bandwidth(samples, valid, sigmas)
    assert best in sigmas and sigmas[0] < best < sigmas[-1]
    means = [parzen_log_likelihood(samples, valid, s).mean() for s in sigmas]
    assert best == sigmas[int(np.argmax(means))]


def test_parzen_defaults_and_validation() -> None:
    np.testing.assert_allclose(DEFAULT_SIGMAS, np.logspace(-1, 0.3, 12))
    x = np.zeros((3, 2))
    with pytest.raises(ValueError):
        parzen_log_likelihood(x, np.zeros((3, 3)), 1.0)
    with pytest.raises(ValueError):
        parzen_log_likelihood(x, x, 0.0)
    with pytest.raises(ValueError):
        select_bandwidth(x, x, [])
    with pytest.raises(ValueError):
        parzen_log_likelihood(x[:, 0], x, 1.0)


# --------------------------------------------------------------------------------- import hygiene

_BLOCK_TORCH_SCIPY = """
import sys

class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "scipy"):
            raise ImportError(name + " is blocked in this test")
        return None

sys.meta_path.insert(0, _Blocked())
import ganflow.sampler.metrics.fid
import ganflow.sampler.metrics.parzen
import ganflow.sampler.metrics.prdc
import ganflow.sampler.metrics.scores
assert not any(m.split(".")[0] in ("torch", "scipy") for m in sys.modules)
print("ok")
"""


def test_metric_modules_import_without_torch_or_scipy() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _BLOCK_TORCH_SCIPY], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
