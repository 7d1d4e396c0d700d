"""Tests for the torch-free sample metrics: FID, Inception/MODE scores, PRDC (Parzen: its own file)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganflow.sampler.metrics import prdc as prdc_mod
from ganflow.sampler.metrics.fid import feature_stats, fid_from_features, frechet_distance
from ganflow.sampler.metrics.prdc import prdc
from ganflow.sampler.metrics.scores import inception_score, mode_score, softmax

# ---------------------------------------------------------------------------------------------- FID


def _random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


def _fid_bruteforce(mu1, s1, mu2, s2) -> float:
    """Closed form with Tr((S1 S2)^(1/2)) from the (complex) eigenvalues of the product S1 S2."""
    lam = np.linalg.eigvals(s1 @ s2).astype(np.complex128)
    tr_sqrt = np.sum(np.sqrt(lam)).real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_sqrt)


def test_feature_stats_matches_definition() -> None:
    f = np.random.default_rng(0).standard_normal((50, 4)) @ np.diag([1.0, 2.0, 3.0, 0.5])
    mu, sigma = feature_stats(f.astype(np.float32))
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    assert mu.shape == (4,) and sigma.shape == (4, 4)
    f64 = f.astype(np.float32).astype(np.float64)
    centred = f64 - f64.sum(axis=0) / 50
    np.testing.assert_allclose(mu, f64.sum(axis=0) / 50, rtol=1e-12)
    np.testing.assert_allclose(sigma, centred.T @ centred / 49, rtol=1e-10)
    mu1, s1 = feature_stats(f[:, :1])
    assert mu1.shape == (1,) and s1.shape == (1, 1)
    with pytest.raises(ValueError):
        feature_stats(f[:1])
    with pytest.raises(ValueError):
        feature_stats(f[:, 0])


def test_fid_of_set_with_itself_is_zero() -> None:
    rng = np.random.default_rng(1)
    f = rng.standard_normal((500, 16)) @ rng.standard_normal((16, 16)) + 3.0
    assert fid_from_features(f, f) < 1e-6


def test_frechet_distance_diagonal_closed_form() -> None:
    rng = np.random.default_rng(2)
    d = 7
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    d1, d2 = rng.uniform(0.1, 3.0, d), rng.uniform(0.1, 3.0, d)
    # Commuting covariances: Tr((S1 S2)^(1/2)) = sum sqrt(d1 d2).
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(d1 + d2 - 2.0 * np.sqrt(d1 * d2))
    got = frechet_distance(mu1, np.diag(d1), mu2, np.diag(d2))
    assert got == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_non_commuting_matches_bruteforce() -> None:
    rng = np.random.default_rng(3)
    d = 6
    s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
    assert np.abs(s1 @ s2 - s2 @ s1).max() > 0.1  # genuinely non-commuting
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    expected = _fid_bruteforce(mu1, s1, mu2, s2)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_singular_covariance() -> None:
    # Rank-deficient S1 (fewer samples than dimensions): still matches the brute force.
    rng = np.random.default_rng(4)
    d = 5
    a = rng.standard_normal((d, 2))
    s1, s2 = a @ a.T, _random_spd(rng, d)
    mu = np.zeros(d)
    assert frechet_distance(mu, s1, mu, s2) == pytest.approx(_fid_bruteforce(mu, s1, mu, s2), rel=1e-7)


def test_fid_from_samples_close_to_closed_form() -> None:
    rng = np.random.default_rng(5)
    d = 4
    s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
    mu1, mu2 = np.zeros(d), np.full(d, 0.5)
    n = 200_000
    x1 = rng.standard_normal((n, d)) @ np.linalg.cholesky(s1).T + mu1
    x2 = rng.standard_normal((n, d)) @ np.linalg.cholesky(s2).T + mu2
    expected = _fid_bruteforce(mu1, s1, mu2, s2)
    assert expected > 1.0
    assert fid_from_features(x1, x2) == pytest.approx(expected, rel=0.02)


def test_frechet_distance_symmetric() -> None:
    rng = np.random.default_rng(6)
    d = 5
    s1, s2 = _random_spd(rng, d), _random_spd(rng, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-10)


def test_fid_translation_gives_squared_shift() -> None:
    rng = np.random.default_rng(7)
    f = rng.standard_normal((1000, 8)) @ rng.standard_normal((8, 8))
    delta = rng.standard_normal(8)
    assert fid_from_features(f, f + delta) == pytest.approx(float(delta @ delta), rel=1e-8, abs=1e-8)


def test_frechet_distance_one_dimension() -> None:
    # N(0, 1) vs N(1, 4): 1 + 1 + 4 - 2 * sqrt(1 * 4) = 2.
    assert frechet_distance(np.array([0.0]), np.array([[1.0]]), np.array([1.0]), np.array([[4.0]])) == (
        pytest.approx(2.0, rel=1e-12)
    )
    assert frechet_distance(0.0, 1.0, 1.0, 4.0) == pytest.approx(2.0, rel=1e-12)
    x = np.random.default_rng(8).standard_normal((100, 1))
    assert fid_from_features(x, x + 2.0) == pytest.approx(4.0, rel=1e-10)


def test_frechet_distance_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError):
        frechet_distance(np.array([np.nan, 0.0]), np.eye(2), np.zeros(2), np.eye(2))


# ------------------------------------------------------------------------------------ IS and MODE


def _confident_logits(labels: np.ndarray, c: int, scale: float = 100.0) -> np.ndarray:
    return scale * np.eye(c)[labels]


def _is_loop(logits: np.ndarray) -> float:
    """Inception score with plain Python loops and math (one split)."""
    probs = []
    for row in logits.tolist():
        m = max(row)
        e = [math.exp(v - m) for v in row]
        probs.append([v / sum(e) for v in e])
    n, c = len(probs), len(probs[0])
    py = [sum(p[y] for p in probs) / n for y in range(c)]
    kl = [sum(p[y] * math.log(p[y] / py[y]) for y in range(c)) for p in probs]
    return math.exp(sum(kl) / n)


def test_softmax_stable_and_normalised() -> None:
    z = np.array([[1000.0, 1000.0, -1000.0], [0.0, math.log(3.0), -np.inf]])
    p = softmax(z)
    assert p.dtype == np.float64 and np.all(np.isfinite(p))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.25, 0.75, 0.0]], atol=1e-15)
    small = np.random.default_rng(0).standard_normal((4, 5))
    np.testing.assert_allclose(
        softmax(small), np.exp(small) / np.exp(small).sum(1, keepdims=True), rtol=1e-12
    )


def test_inception_score_confident_uniform_is_num_classes() -> None:
    labels = np.arange(1000) % 10
    mean, std = inception_score(_confident_logits(labels, 10))
    assert mean == pytest.approx(10.0, rel=1e-6) and std == 0.0
    mean, std = inception_score(_confident_logits(labels, 10), splits=10)
    assert mean == pytest.approx(10.0, rel=1e-6) and std < 1e-6


def test_inception_score_constant_logits_is_one() -> None:
    row = np.random.default_rng(1).standard_normal(10)
    mean, std = inception_score(np.tile(row, (300, 1)), splits=3)
    assert mean == pytest.approx(1.0, abs=1e-9) and std < 1e-9


def test_inception_score_matches_loop_with_uneven_splits() -> None:
    logits = np.random.default_rng(2).standard_normal((10, 4)) * 2.0
    parts = [logits[:4], logits[4:7], logits[7:]]  # np.array_split(10, 3) -> 4, 3, 3
    scores = [_is_loop(p) for p in parts]
    mean, std = inception_score(logits, splits=3)
    assert mean == pytest.approx(sum(scores) / 3, rel=1e-9)
    assert std == pytest.approx(float(np.std(scores)), rel=1e-7)
    assert inception_score(logits)[0] == pytest.approx(_is_loop(logits), rel=1e-9)
    for bad in (0, 11, 1.5):
        with pytest.raises(ValueError):
            inception_score(logits, splits=bad)


def test_mode_score_confident_uniform_is_num_classes() -> None:
    labels = np.arange(1000) % 10
    assert mode_score(_confident_logits(labels, 10)) == pytest.approx(10.0, rel=1e-6)


def test_mode_score_collapsed_to_one_class_exact() -> None:
    # p(y|x) = p(y) = one-hot(0) (up to e^-100), p* uniform over C:
    #   E KL(p(y|x) || p*) = log C,   KL(p* || p) = -log C - ((C - 1)/C) log eps
    # so MODE = C^2 eps^((C - 1)/C) (eps = 1e-12 inside the logs).
    c = 10
    logits = _confident_logits(np.zeros(200, dtype=int), c)
    expected = c**2 * 1e-12 ** ((c - 1) / c)
    assert mode_score(logits) == pytest.approx(expected, rel=1e-6)
    assert mode_score(logits) < 1e-8


def test_mode_score_with_matching_prior_is_one() -> None:
    # Training labels all class 0 and the samples all class 0: both KL terms vanish.
    c = 10
    logits = _confident_logits(np.zeros(50, dtype=int), c)
    prior = np.zeros(c)
    prior[0] = 123.0  # counts: normalised internally
    assert mode_score(logits, prior=prior) == pytest.approx(1.0, abs=1e-9)


def test_mode_score_identity_with_inception_score() -> None:
    # With exact logs and p* = u uniform: E KL(p(y|x) || u) = E KL(p(y|x) || p) + KL(p || u), so
    # log MODE = log IS + KL(p || u) - KL(u || p).
    logits = np.random.default_rng(3).standard_normal((400, 6))
    p = softmax(logits)
    py = p.mean(axis=0)
    u = np.full(6, 1.0 / 6)
    kl_pu = float(np.sum(py * np.log(py / u)))
    kl_up = float(np.sum(u * np.log(u / py)))
    expected = math.log(inception_score(logits)[0]) + kl_pu - kl_up
    assert math.log(mode_score(logits)) == pytest.approx(expected, rel=1e-9)
    assert mode_score(logits, prior=np.ones(6)) == pytest.approx(mode_score(logits), rel=1e-12)


def test_mode_score_rejects_bad_prior() -> None:
    logits = np.zeros((5, 3))
    for bad in (np.ones(4), np.array([1.0, -1.0, 1.0]), np.zeros(3)):
        with pytest.raises(ValueError):
            mode_score(logits, prior=bad)
    with pytest.raises(ValueError):
        mode_score(np.zeros(3))


# ------------------------------------------------------------------------------------------- PRDC


def _prdc_bruteforce(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict[str, float]:
    """Direct-difference distances, full matrices, sorted k-NN radii."""
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=2)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=2)
    d_fr = np.linalg.norm(fake[:, None] - real[None], axis=2)  # [M, N]
    r_pr = np.sort(d_rr, axis=1)[:, k_pr]  # column 0 is the point itself
    r_dc = np.sort(d_rr, axis=1)[:, k_dc]
    f_pr = np.sort(d_ff, axis=1)[:, k_pr]
    return {
        "precision": float((d_fr <= r_pr[None]).any(axis=1).mean()),
        "recall": float((d_fr <= f_pr[:, None]).any(axis=0).mean()),
        "density": float((d_fr <= r_dc[None]).sum() / (k_dc * len(fake))),
        "coverage": float((d_fr.min(axis=0) <= r_dc).mean()),
    }


def test_prdc_identical_sets() -> None:
    x = np.random.default_rng(0).random((2000, 2))
    out = prdc(x, x.copy())
    assert out["precision"] == 1.0 and out["recall"] == 1.0 and out["coverage"] == 1.0
    # Each real k-ball holds its centre and exactly k neighbours: density = (k + 1) / k.
    assert out["density"] == pytest.approx(6 / 5, abs=1e-12)


def test_prdc_same_distribution_density_near_one() -> None:
    rng = np.random.default_rng(1)
    out = prdc(rng.random((2000, 2)), rng.random((2000, 2)))
    assert out["density"] == pytest.approx(1.0, abs=0.1)
    assert out["precision"] > 0.9 and out["recall"] > 0.9 and out["coverage"] > 0.9


def test_prdc_far_away_is_zero() -> None:
    rng = np.random.default_rng(2)
    out = prdc(rng.random((300, 3)), rng.random((200, 3)) + 100.0)
    assert out == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_hand_built_1d() -> None:
    real = np.array([0.0, 1.0, 3.0, 6.0, 16.0])[:, None]
    fake = np.array([-2.0, -1.0, 5.0, 24.0, 30.0])[:, None]
    # k = 1 radii: real 1, 1, 2, 3, 10; fake 1, 1, 6, 6, 6.  k = 2 radii (real): 3, 2, 3, 5, 13.
    # precision: -1 in [-1, 1] (boundary), 5 in [1, 5], 24 in [6, 26]; -2 and 30 nowhere -> 3/5.
    # recall: 0 in [-2, 0] (boundary), 1, 3, 6 in [-1, 11]; 16 in no fake ball -> 4/5.
    # density (k = 2): -2: 1 ball, -1: 2, 5: 3, 24: 1, 30: 0 -> 7 / (2 * 5).
    # coverage (k = 2): every real ball ([-3,3], [-1,3], [0,6], [1,11], [3,29]) holds a fake -> 1.
    out = prdc(real, fake, k_pr=1, k_dc=2)
    assert out == pytest.approx({"precision": 0.6, "recall": 0.8, "density": 0.7, "coverage": 1.0})
    # k_dc = 1: balls [-1,1], [0,2], [1,5], [3,9], [6,26]; counts -2: 0, -1: 1, 5: 2, 24: 1, 30: 0
    # -> density 4/5; the ball [0, 2] of real 1 holds no fake -> coverage 4/5.
    out = prdc(real, fake, k_pr=1, k_dc=1)
    assert out == pytest.approx({"precision": 0.6, "recall": 0.8, "density": 0.8, "coverage": 0.8})


def test_prdc_half_fakes_far_away() -> None:
    real = np.random.default_rng(3).random((2000, 2))
    fake = np.concatenate([real[:500], real[500:1000] + 50.0])
    assert prdc(real, fake)["precision"] == 0.5


def test_prdc_matches_bruteforce_and_chunking(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    real = rng.standard_normal((120, 5))
    fake = rng.standard_normal((90, 5)) * 1.3 + 0.4
    expected = _prdc_bruteforce(real, fake, 3, 5)
    sizes: list[tuple[int, int]] = []
    original = prdc_mod._sq_dists

    def recording(*args):
        d = original(*args)
        sizes.append(d.shape)
        return d

    monkeypatch.setattr(prdc_mod, "_sq_dists", recording)
    for chunk in (7, 2048):
        sizes.clear()
        assert prdc(real, fake, chunk=chunk) == pytest.approx(expected, abs=1e-12)
        assert max(a * b for a, b in sizes) <= min(chunk, 120) * 120


def test_prdc_validates_input() -> None:
    x = np.zeros((10, 2))
    with pytest.raises(ValueError):
        prdc(x[:, 0], x)
    with pytest.raises(ValueError):
        prdc(x, np.zeros((10, 3)))
    with pytest.raises(ValueError):
        prdc(x[:5], x)  # N = 5 <= k_dc
    with pytest.raises(ValueError):
        prdc(x, x[:3])  # M = 3 <= k_pr
    with pytest.raises(ValueError):
        prdc(x, x, k_pr=0)
