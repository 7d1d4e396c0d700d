"""The registered metrics, each with a name that carries its protocol (count, data, split, k)."""

from __future__ import annotations

import numpy as np

from ganflow.sampler.metrics.fid import feature_stats, frechet_distance
from ganflow.sampler.metrics.modes import mode_metrics
from ganflow.sampler.metrics.parzen import parzen_eval
from ganflow.sampler.metrics.prdc import prdc
from ganflow.sampler.metrics.registry import count_tag, register
from ganflow.sampler.metrics.scores import inception_score, mode_score

BOTH = ("images", "points")
PIXEL_FID_MAX_DIM = 4096  # FID on raw data of more dims (a D x D covariance) is asked for by name only


@register(
    "fid",
    kinds=BOTH,
    max_dim=PIXEL_FID_MAX_DIM,
    summary="Frechet distance of feature Gaussians (Heusel et al. 2017)",
)
def _fid(ev, fake):
    mu, sigma = feature_stats(fake["features"])
    value = frechet_distance(mu, sigma, *ev.real_stats())
    return {f"fid{count_tag(len(fake['x']))}_{ev.against()}": value}


@register("is", kinds=("images",), needs_logits=True, summary="Inception-style score, classifier logits")
def _is(ev, fake):
    mean, _ = inception_score(fake["logits"])
    return {f"is{count_tag(len(fake['x']))}{ev.features.tag}": mean}


@register("mode", kinds=("images",), needs_logits=True, summary="MODE score (Che et al. 2017)")
def _mode(ev, fake):
    return {f"mode{count_tag(len(fake['x']))}{ev.features.tag}": mode_score(fake["logits"])}


@register(
    "prdc", kinds=BOTH, summary="precision/recall k=3 (Kynkaanniemi 2019), density/coverage k=5 (Naeem 2020)"
)
def _prdc(ev, fake):
    r = prdc(ev.real_out()["features"], fake["features"], k_pr=3, k_dc=5)
    n, vs = count_tag(len(fake["x"])), ev.against()
    return {
        f"precision{n}_k3_{vs}": r["precision"],
        f"recall{n}_k3_{vs}": r["recall"],
        f"density{n}_k5_{vs}": r["density"],
        f"coverage{n}_k5_{vs}": r["coverage"],
    }


@register(
    "modes",
    kinds=("points",),
    needs_modes=True,
    summary="high-quality rate (within 4 std of a center), modes covered, mode KL (toys, --centers)",
)
def _modes(ev, fake):
    r = mode_metrics(fake["x"].reshape(len(fake["x"]), -1), ev.modes)
    n = count_tag(len(fake["x"])) + ev.modes.tag
    return {
        f"hq_rate{n}": r["hq_rate"],
        f"modes_covered{n}": r["modes_covered"],
        f"kl_modes{n}": r["kl_modes"],
    }


@register(
    "parzen",
    kinds=BOTH,
    default=False,
    summary="Parzen-window log-likelihood (nats) of the split, bandwidth on a validation split",
)
def _parzen(ev, fake):
    """Gaussian KDE on the samples (Breuleux et al. 2011; Goodfellow et al. 2014, section 5);
    sigma from a log grid scaled by the validation data's mean per-dimension std."""
    if ev.valid is None:
        raise ValueError("parzen needs a validation split")
    flat = lambda a: a.reshape(len(a), -1).astype(np.float64)  # noqa: E731
    valid = flat(ev.valid)
    sigmas = float(valid.std(axis=0).mean()) * np.logspace(-2.5, 0.5, 16)
    r = parzen_eval(flat(fake["x"]), valid, flat(ev.real), sigmas)
    tag = f"{count_tag(len(fake['x']))}_{ev.dataset}-{ev.split}"
    return {
        f"parzen_ll{tag}": r["log_likelihood"],
        f"parzen_ll_sem{tag}": r["log_likelihood_sem"],
        f"parzen_sigma{tag}": r["sigma"],
    }
