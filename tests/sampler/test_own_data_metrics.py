"""Metrics on your own data: mode metrics for any centers in any dimension (known answers), FID and
PRDC in coordinates or pixels with names that carry the protocol, feature networks checked."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganflow.sampler.errors import InputError
from ganflow.sampler.evaluate import make_evaluator
from ganflow.sampler.metrics.features import DEFAULT_FEATURES
from ganflow.sampler.metrics.modes import Modes, estimate_std, load_centers, mode_metrics
from tests.sampler.test_own_data import ring


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFLOW_CACHE", str(tmp_path / "cache"))


def test_mode_metrics_in_five_dimensions():
    centers = np.eye(5) * 10.0  # 5 modes in 5-D
    m = Modes("e", centers, 1.0)
    # exact distances: 3.9 from mode 0 (HQ), 4.1 from mode 1 (not HQ), on mode 2 (HQ), NaN (never HQ)
    x = np.stack(
        [centers[0] + [0, 3.9, 0, 0, 0], centers[1] + [0, 0, 4.1, 0, 0], centers[2], np.full(5, np.nan)]
    )
    r = mode_metrics(x, m)
    assert r["hq_rate"] == 0.5 and r["modes_covered"] == 2.0 and r["n"] == 4
    # q over 5 modes has mass on 2: KL(u || q) = 3/5 log((1/5)/(eps/(1+5 eps))) + 2/5 log((1/5)/q_hit)
    eps = 1e-6
    q_hit, q_miss = (0.5 + eps) / (1 + 5 * eps), eps / (1 + 5 * eps)
    want = 0.2 * (2 * math.log(0.2 / q_hit) + 3 * math.log(0.2 / q_miss))
    assert r["kl_modes"] == pytest.approx(want, rel=1e-12)
    with pytest.raises(InputError, match=r"\[N, 5\]"):
        mode_metrics(np.zeros((3, 2)), m)


def test_estimate_std_recovers_the_mode_std():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(6, 8)) * 20.0  # far apart in 8-D
    x = centers[rng.integers(6, size=20_000)] + 0.3 * rng.standard_normal((20_000, 8))
    assert estimate_std(x, centers) == pytest.approx(0.3, rel=0.01)
    m = Modes("c", centers, estimate_std(x, centers))
    r = mode_metrics(x, m)
    # HQ = within 4 std of the center, as for the 2-D toys: in 8-D that is P(chi2_8 <= 16) = 0.9576
    chi2_8 = 1 - math.exp(-8) * sum(8**k / math.factorial(k) for k in range(4))
    assert r["hq_rate"] == pytest.approx(chi2_8, abs=0.005)
    assert r["modes_covered"] == 6 and r["kl_modes"] < 1e-3


def test_load_centers_checks(tmp_path):
    np.save(tmp_path / "ok.npy", np.zeros((3, 2)))
    assert load_centers(tmp_path / "ok.npy", 2).shape == (3, 2)
    np.save(tmp_path / "d3.npy", np.zeros((3, 3)))
    np.save(tmp_path / "nan.npy", np.full((3, 2), np.nan))
    (tmp_path / "junk.npy").write_bytes(b"junk")
    for name, match in (
        ("d3", r"centers \[M, 2\]"),
        ("nan", "NaN"),
        ("junk", "cannot read"),
        ("no", "cannot"),
    ):
        with pytest.raises(InputError, match=match) as err:
            load_centers(tmp_path / f"{name}.npy", 2)
        assert "\n" not in str(err.value)


def test_evaluator_on_a_ring_with_centers(tmp_path):
    x, centers = ring(n=4000, std=0.05)
    np.save(tmp_path / "ring.npy", x)
    np.save(tmp_path / "c8.npy", centers)
    ev = make_evaluator(str(tmp_path / "ring.npy"), centers=tmp_path / "c8.npy")
    assert ev.modes.std == pytest.approx(0.05, rel=0.1)  # estimated from the test split
    assert set(ev.defaults()) == {"fid", "prdc", "modes"}
    train = np.load(tmp_path / "ring.npy")[:2000]
    r = ev(train)
    assert r["fid2k_ring-test"] < 0.01
    assert r["hq_rate2k_c8"] > 0.99 and r["modes_covered2k_c8"] == 8 and r["kl_modes2k_c8"] < 0.01
    assert r["precision2k_k3_ring-test"] > 0.8 and r["coverage2k_k5_ring-test"] > 0.8
    collapsed = ev(np.repeat(centers[:1], 500, axis=0).astype(np.float32))
    assert collapsed["modes_covered500_c8"] == 1 and collapsed["kl_modes500_c8"] > 5
    given = make_evaluator(str(tmp_path / "ring.npy"), centers=tmp_path / "c8.npy", center_std=0.01)
    assert given.modes.std == 0.01 and given(train)["hq_rate2k_c8"] < 0.5
    with pytest.raises(InputError, match="needs --centers"):
        make_evaluator(str(tmp_path / "ring.npy"), center_std=0.1)


def test_pixel_space_metrics_and_feature_networks(tmp_path):
    a = np.random.default_rng(0).integers(0, 256, (300, 32, 32, 3), dtype=np.uint8)
    np.save(tmp_path / "rgb.npy", a)
    ev = make_evaluator(str(tmp_path / "rgb.npy"))
    assert ev.kind == "images" and ev.features.tag == "-pixels"
    assert set(ev.defaults()) == {"fid", "prdc"}  # 3072 dims: FID in pixels is still a default
    r = ev(np.asarray(ev.real[:20]), ["prdc"])
    assert set(r) == {f"{k}20_k{3 if k in ('precision', 'recall') else 5}_rgb-test-pixels" for k in
                      ("precision", "recall", "density", "coverage")}  # fmt: skip
    with pytest.raises(InputError, match="pixel-space") as err:  # the MNIST classifier on 3x32x32
        make_evaluator(str(tmp_path / "rgb.npy"), features=DEFAULT_FEATURES)
    assert "\n" not in str(err.value) and "--features" in str(err.value)
    with pytest.raises(InputError, match="vector data"):
        make_evaluator(str(tmp_path / "rgb.npy"), centers=tmp_path / "c.npy")
    big = np.zeros((20, 48, 48, 3), np.uint8)  # 6912 dims: FID in pixels only when asked for
    big[::2] = 255
    np.save(tmp_path / "big.npy", big)
    assert make_evaluator(str(tmp_path / "big.npy")).defaults() == ["prdc"]
