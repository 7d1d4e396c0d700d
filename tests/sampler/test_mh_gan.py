"""MH-GAN on a 1-D bundle whose density ratio is known exactly (tests/known_bundles.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ganflow.sampler.errors import DataError
from ganflow.sampler.stages.mh_gan import fit_calibration
from tests.known_bundles import MU, SIGMA, ks_critical, ks_normal, ratio_bundle, register_known_data
from tests.sampler.test_drs import draw


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    register_known_data(monkeypatch)
    return ratio_bundle(tmp_path / "ratio")


def test_chain_targets_p_data_and_calibration_is_identity(bundle):
    """The critic logit is exactly log r, so the fitted calibration is ~ (1, 0) and the chain's
    final states follow p_data."""
    n = 3000
    x, stats = draw(bundle, "mh-gan", n, mh_k=60, mh_calibration=5000)
    assert ks_normal(x, MU, SIGMA) < ks_critical(n)
    assert abs(stats["mh_calibration_a"] - 1) < 0.15 and abs(stats["mh_calibration_b"]) < 0.15
    assert stats["proposals"] == 60 * n and stats["accepted"] == n and 0 < stats["mh_moves"] < 60 * n


def test_a_one_step_chain_returns_its_proposal(bundle):
    """K = 1: the chain keeps z_0 or stays at the real start and restarts at z_0: either way z_0."""
    x, stats = draw(bundle, "mh-gan", 500, seed=4, mh_k=1)
    plain, _ = draw(bundle, "plain", 500, seed=4)
    np.testing.assert_array_equal(x, plain)
    assert 0 < stats["mh_restarts"] < 500


def test_calibration_recovers_a_known_logistic_model():
    rng = np.random.default_rng(0)
    d = rng.uniform(-4, 4, 40_000)
    real = rng.random(len(d)) < 1 / (1 + np.exp(-(2.0 * d - 1.0)))
    a, b = fit_calibration(d[real], d[~real])
    assert abs(a - 2.0) < 0.1 and abs(b + 1.0) < 0.1


def test_missing_data_is_a_one_line_error(bundle):
    with pytest.raises(DataError, match="mh-gan needs real data: pass --mh-data") as e:
        draw(bundle, "mh-gan", 10, mh_data="/no/such/data.npz")
    assert "\n" not in str(e.value)
