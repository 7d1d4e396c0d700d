"""DRS on a 1-D bundle whose density ratio is known exactly (tests/known_bundles.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganflow.sampler.bundle import load_bundle
from ganflow.sampler.pipeline import Pipeline
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.stages import Context, options_from_flat
from ganflow.sampler.stages.drs import drs_f
from ganflow.sampler.stages.gaussian import GaussianOptions, GaussianProposal
from ganflow.sampler.stages.rejection import HELD_OUT
from tests.known_bundles import C0, C1, C2, MU, SIGMA, ks_critical, ks_normal, ratio_bundle

D_MAX = C0 - C1**2 / (4 * C2)  # max_x log r(x): rejection sampling's log M


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return ratio_bundle(tmp_path_factory.mktemp("ratio"))


def draw(bundle, method: str, n: int, seed: int = 0, **flat) -> tuple[np.ndarray, dict]:
    """x [n] from `method` on the 1-D bundle at `bundle`, and the pipeline's stats."""
    pipe = Pipeline(load_bundle(bundle), Runtime("cpu"), method, seed, options=options_from_flat(flat))
    return np.concatenate([x[:, 0] for _, _, x in pipe.generate(n, 500)]), pipe.stats


def test_gamma_zero_is_exact_rejection_sampling(bundle):
    """With gamma = 0 DRS accepts w.p. r(x) / max r: the kept samples follow p_data exactly and
    the acceptance rate is 1 / max r."""
    n = 4000
    x, stats = draw(bundle, "drs", n, drs_gamma=0.0)
    assert ks_normal(x, MU, SIGMA) < ks_critical(n)
    plain, _ = draw(bundle, "plain", n)
    assert ks_normal(plain, MU, SIGMA) > 3 * ks_critical(n)  # the check tells p_G apart
    assert D_MAX - 0.01 < stats["drs_logit_max"] <= D_MAX  # the burn-in's maximum
    rate = stats["accepted"] / stats["proposals"]
    assert stats["accepted"] == n and abs(rate - math.exp(-D_MAX)) < 0.02


def test_gamma_is_the_percentile_of_f_over_the_burn_in(bundle):
    b = load_bundle(bundle)
    x, stats = draw(bundle, "drs", 3000, seed=3, drs_percentile=80.0, drs_burn_in=2000)
    ctx = Context(b, Runtime("cpu"), 3)
    z = GaussianProposal(ctx, GaussianOptions())(HELD_OUT, HELD_OUT + 2000)[:, 0].astype(np.float64)
    d = C2 * z**2 + C1 * z + C0
    assert stats["drs_logit_max"] == pytest.approx(d.max(), abs=1e-5)
    gamma = np.percentile(drs_f(d, d.max(), 0.0), 80.0)
    assert stats["drs_gamma"] == pytest.approx(gamma, abs=1e-4) and gamma > 0
    assert x.std() < 0.9 * SIGMA  # gamma > 0 sharpens p_data towards its mode


def test_critic_plus_corrector_is_the_ratio(tmp_path):
    """A WGAN-GP critic with a corrector: d = D + C (here each holds part of log r) is exact."""
    n = 3000
    x, _ = draw(ratio_bundle(tmp_path / "c", loss="wgan-gp", corrector=True), "drs", n, drs_gamma=0.0)
    assert ks_normal(x, MU, SIGMA) < ks_critical(n)


def test_f_is_finite_at_and_above_the_maximum():
    f = drs_f(np.array([-50.0, 0.0, 1.0, 3.0]), 1.0, 0.0)
    assert np.isfinite(f).all() and f[2] == f[3] > 13  # accepted w.p. ~1, as the paper's running max
    assert drs_f(np.array([0.0]), 1.0, 0.0)[0] == pytest.approx(-1 - math.log(1 - math.exp(-1)), abs=1e-5)
