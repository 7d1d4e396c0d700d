"""DDLS: Langevin on a known latent energy, and its graph is the DGflow step with the prior term."""

from __future__ import annotations

import math

import numpy as np
import onnxruntime as ort
import pytest

from tests.known_bundles import MU, SIGMA, ks_critical, ks_normal, ratio_bundle
from tests.sampler.test_drs import draw


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return ratio_bundle(tmp_path_factory.mktemp("ratio"))


def test_langevin_reaches_the_known_target(bundle):
    """E(z) = z^2/2 - log r(z) = (z - MU)^2 / (2 SIGMA^2) + const: after enough steps of size eps
    the latents follow p_data (stationary variance SIGMA^2 / (1 - eps / (4 SIGMA^2)), +0.7%)."""
    n = 3000
    x, stats = draw(bundle, "ddls", n, ddls_steps=600, ddls_eps=0.01)
    assert ks_normal(x, MU, SIGMA) < ks_critical(n)
    assert stats["ddls_steps"] == 600 and stats["ddls_eps"] == 0.01
    few, _ = draw(bundle, "ddls", n, ddls_steps=20, ddls_eps=0.01)  # not there yet: the check can fail
    assert ks_normal(few, MU, SIGMA) > 3 * ks_critical(n)
    none, _ = draw(bundle, "ddls", 300, ddls_steps=0)
    np.testing.assert_array_equal(none, draw(bundle, "plain", 300)[0])


def test_ddls_graph_is_the_dgflow_step_with_the_prior(tiny_bundle):
    """ddls(z, xi, eps/2, 1) = z + (eps/2)(grad d - z) + sqrt(eps) xi, with (eps/2) grad d read off
    the bundle's DGflow graph (f = KL) as refine(z, 0, eps/2, 0) - z."""
    run = lambda name, *feeds: ort.InferenceSession(str(tiny_bundle / name / "model.onnx")).run(  # noqa: E731
        None, dict(zip(("z", "noise", "eta", "gamma"), feeds, strict=True))
    )[0]
    rng = np.random.default_rng(0)
    z, xi = rng.standard_normal((64, 2), dtype=np.float32), rng.standard_normal((64, 2), dtype=np.float32)
    eps = np.float32(0.04)
    half, one, zero = np.array(eps / 2), np.array(1.0, np.float32), np.array(0.0, np.float32)
    drift = run("refine", z, np.zeros_like(z), half, zero) - z
    want = z + drift - (eps / 2) * z + math.sqrt(eps) * xi
    np.testing.assert_allclose(run("ddls", z, xi, half, one), want, rtol=1e-5, atol=1e-5)
    assert np.abs(drift).max() > 1e-3  # the critic term is not negligible here
