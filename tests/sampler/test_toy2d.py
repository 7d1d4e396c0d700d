"""Tests for ganflow.sampler.metrics.toy2d (toy data sets and mode metrics), torch-free."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from ganflow.sampler.errors import InputError
from ganflow.sampler.metrics.toy2d import (
    TOY_MODES,
    TOY_NAMES,
    ToyModes,
    mode_metrics,
    sample_toy,
)


def test_mode_definitions() -> None:
    assert TOY_NAMES == ("gaussians25", "gaussians8", "swissroll")
    g25 = TOY_MODES["gaussians25"]
    assert g25.centers.shape == (25, 2)
    assert g25.std == pytest.approx(0.05 / 2.828)
    assert sorted(set(np.round(g25.centers[:, 0] * 2.828, 9))) == [-4, -2, 0, 2, 4]
    g8 = TOY_MODES["gaussians8"]
    assert g8.centers.shape == (8, 2)
    assert g8.std == pytest.approx(0.02 / 1.414)
    np.testing.assert_allclose(np.linalg.norm(g8.centers, axis=1), 2 / 1.414)
    np.testing.assert_allclose(g8.centers[2], [0, 2 / 1.414], atol=1e-12)


@pytest.mark.parametrize("name", ["gaussians25", "gaussians8"])
def test_sample_toy_gaussians(name: str) -> None:
    modes = TOY_MODES[name]
    x = sample_toy(name, 100_000, np.random.default_rng(0))
    assert x.shape == (100_000, 2) and x.dtype == np.float32
    d = np.linalg.norm(x[:, None, :].astype(np.float64) - modes.centers[None], axis=2)
    nearest = d.argmin(axis=1)
    m = len(modes.centers)
    counts = np.bincount(nearest, minlength=m)
    assert counts.min() > 0.8 * 100_000 / m  # uniform over modes
    for j in range(m):
        sel = x[nearest == j].astype(np.float64)
        np.testing.assert_allclose(sel.mean(axis=0), modes.centers[j], atol=3 * modes.std / 30)
        std = sel.std(axis=0)
        assert np.all(np.abs(std / modes.std - 1) < 0.1), (j, std, modes.std)
    np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=0.02)


def test_sample_toy_swissroll() -> None:
    x = sample_toy("swissroll", 50_000, np.random.default_rng(1))
    assert x.shape == (50_000, 2) and x.dtype == np.float32
    r = np.linalg.norm(x.astype(np.float64) * 7.5, axis=1)
    # radius ~ t in [1.5 pi, 4.5 pi], blurred by N(0, 0.25^2) noise
    assert r.min() > 1.5 * math.pi - 1.5 and r.max() < 4.5 * math.pi + 1.5
    assert np.quantile(r, 0.01) < 1.5 * math.pi + 0.5 and np.quantile(r, 0.99) > 4.5 * math.pi - 0.5
    assert np.abs(x).max() < 2.2


def test_sample_toy_reproducible_and_checked() -> None:
    a = sample_toy("gaussians8", 10, np.random.default_rng(5))
    b = sample_toy("gaussians8", 10, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert sample_toy("swissroll", 0, np.random.default_rng(0)).shape == (0, 2)
    with pytest.raises(InputError):
        sample_toy("gaussians9", 10, np.random.default_rng(0))
    with pytest.raises(InputError):
        sample_toy("gaussians8", -1, np.random.default_rng(0))


@pytest.mark.parametrize("name", ["gaussians25", "gaussians8"])
def test_mode_metrics_on_data(name: str) -> None:
    modes = TOY_MODES[name]
    x = sample_toy(name, 100_000, np.random.default_rng(2))
    out = mode_metrics(x, modes)
    assert out["n"] == 100_000
    assert out["hq_rate"] > 0.99
    assert out["modes_covered"] == float(len(modes.centers))
    assert 0.0 <= out["kl_modes"] < 0.01
    assert mode_metrics(x, name) == out  # the name works too


def test_mode_metrics_collapsed() -> None:
    modes = TOY_MODES["gaussians25"]
    rng = np.random.default_rng(3)
    x = modes.centers[7] + modes.std * rng.standard_normal((10_000, 2))
    out = mode_metrics(x, modes)
    assert out["modes_covered"] == 1.0
    assert out["hq_rate"] > 0.99
    assert out["kl_modes"] > 5.0
    half = np.concatenate([x, sample_toy("gaussians25", 10_000, rng)])
    kl_half = mode_metrics(half, modes)["kl_modes"]
    assert 0.05 < kl_half < out["kl_modes"]  # unbalanced but complete: in between


def test_mode_metrics_uniform_noise() -> None:
    x = np.random.default_rng(4).uniform(-2, 2, size=(100_000, 2))
    out = mode_metrics(x, TOY_MODES["gaussians25"])
    # 25 discs of radius 4 std = 0.0707 cover ~2.4% of [-2, 2]^2
    assert out["hq_rate"] < 0.05
    assert out["modes_covered"] == 25.0


def test_mode_metrics_nan_and_far_samples() -> None:
    modes = TOY_MODES["gaussians8"]
    x = sample_toy("gaussians8", 1000, np.random.default_rng(6)).astype(np.float64)
    x[:100] = np.nan
    x[100:150, 0] = np.inf
    out = mode_metrics(x, modes)
    assert out["n"] == 1000
    assert 0.84 <= out["hq_rate"] <= 0.85
    assert out["modes_covered"] == 8.0
    assert math.isfinite(out["kl_modes"])
    bad = mode_metrics(np.full((10, 2), np.nan), modes)
    assert bad["hq_rate"] == 0.0 and bad["modes_covered"] == 0.0
    assert math.isnan(bad["kl_modes"])
    far = mode_metrics(np.full((10, 2), 100.0), modes)
    assert far["hq_rate"] == 0.0


def test_mode_metrics_n_std_and_chunks() -> None:
    modes = ToyModes("two", np.array([[0.0, 0.0], [10.0, 0.0]]), 1.0)
    x = np.array([[0.0, 3.9], [0.0, 4.1], [10.0, 0.0], [5.0, 0.0]])
    out = mode_metrics(x, modes)
    assert out["hq_rate"] == 0.5 and out["modes_covered"] == 2.0
    assert out["kl_modes"] == pytest.approx(0.0, abs=1e-9)
    assert mode_metrics(x, modes, n_std=4.5)["hq_rate"] == 0.75
    # more rows than one chunk, collapsed: covers 1 mode, counts across chunks
    big = np.zeros((200_001, 2), np.float32)
    big[-1] = [10.0, 0.0]
    res = mode_metrics(big, modes)
    assert res["hq_rate"] == 1.0 and res["modes_covered"] == 2.0
    assert res["kl_modes"] > 1.0
    with pytest.raises(InputError):
        mode_metrics(np.zeros((3, 3)), modes)


def test_mode_metrics_million_samples() -> None:
    x = sample_toy("gaussians25", 1_000_000, np.random.default_rng(7))
    out = mode_metrics(x, "gaussians25")
    assert out["n"] == 1_000_000 and out["hq_rate"] > 0.99 and out["kl_modes"] < 1e-3


_BLOCK_TORCH = """
import sys

class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
        return None

sys.meta_path.insert(0, _NoTorch())
import ganflow.sampler.images
import ganflow.sampler.metrics.toy2d
assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules)
print("ok")
"""


def test_modules_import_without_torch() -> None:
    proc = subprocess.run([sys.executable, "-c", _BLOCK_TORCH], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
