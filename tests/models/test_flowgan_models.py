"""Invariants of every invertible (Flow-GAN) generator: inverse, log-det vs autograd, preprocessing."""

from __future__ import annotations

import math

import pytest
import torch

from ganflow.models import GENERATORS, build_component, config_to_dict, load_modules, save_checkpoint
from ganflow.models.flowgan import PRIORS, LogitPreprocess, dequantize
from ganflow.models.flowgan.priors import gaussian_to_logistic

FLOWS = [name for name, cls in GENERATORS.items() if getattr(cls, "invertible", False)]


def _flow(arch: str, **over) -> torch.nn.Module:
    torch.manual_seed(0)
    g = build_component("generator", {**GENERATORS.get(arch).example_config(), **over}).double()
    with torch.no_grad():  # the output layers start at zero (identity flow): perturb every weight
        for p in g.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return g.eval()


def test_every_flow_is_covered():
    assert {"nice", "realnvp-mlp", "realnvp-conv"} <= set(FLOWS)


@pytest.mark.parametrize("prior", PRIORS.names())
@pytest.mark.parametrize("arch", FLOWS)
def test_inverse_and_exact_log_det(arch, prior):
    g = _flow(arch, prior=prior)
    d = g.config.latent_dim
    z = torch.randn(3, d, dtype=torch.float64)
    x = g.decode(z)
    lo, hi = g.config.data_range
    assert x.shape == (3, *g.config.data_shape) and lo <= x.min() and x.max() <= hi
    z_back, _ = g.encode(x)
    assert torch.allclose(z_back, z, atol=1e-8)
    log_px = g.log_prob(x)
    for i in range(3):  # log p(G(z)) = log p(z) - log |det dG/dz| (change of variables)
        jac = torch.autograd.functional.jacobian(lambda v: g.decode(v[None]).reshape(-1), z[i])
        expected = g.prior.log_prob(z[i : i + 1])[0] - torch.linalg.slogdet(jac)[1]
        assert log_px[i].item() == pytest.approx(expected.item(), abs=1e-8)


@pytest.mark.parametrize("arch", FLOWS)
def test_generator_takes_a_gaussian_latent(arch):
    """forward(g) = decode(T(g)) with T the prior's map from N(0, 1): its log-density is that of
    the Gaussian pushed through the whole generator (T included)."""
    g = _flow(arch, prior="logistic")
    e = torch.randn(2, g.config.latent_dim, dtype=torch.float64)
    log_px = g.log_prob(g(e))
    for i in range(2):
        jac = torch.autograd.functional.jacobian(lambda v: g(v[None]).reshape(-1), e[i])
        gauss = -0.5 * (e[i] ** 2).sum() - 0.5 * len(e[i]) * math.log(2 * math.pi)
        assert log_px[i].item() == pytest.approx((gauss - torch.linalg.slogdet(jac)[1]).item(), abs=1e-4)


def test_logistic_quantile_of_phi():
    e = torch.linspace(-7, 7, 301, dtype=torch.float64)
    exact = torch.special.log_ndtr(e) - torch.special.log_ndtr(-e)  # logit(Phi(e))
    assert torch.allclose(gaussian_to_logistic(e), exact, atol=1e-6)
    assert torch.isfinite(gaussian_to_logistic(torch.tensor([-40.0, 40.0]))).all()


def test_preprocess_log_det_is_exact():
    pre = LogitPreprocess((-1.0, 1.0), alpha=1e-3).double()
    x = torch.rand(2, 5, dtype=torch.float64) * 2 - 1
    h, logdet = pre(x)
    for i in range(2):
        jac = torch.autograd.functional.jacobian(lambda v: pre(v[None])[0][0], x[i])
        assert logdet[i].item() == pytest.approx(torch.linalg.slogdet(jac)[1].item(), abs=1e-10)
    assert torch.allclose(pre.inverse(h), x, atol=1e-12)


def test_identity_nice_with_logistic_prior_is_uniform_on_the_unit_cube():
    """Zero-initialised couplings: h = logit(y') has logistic density y'(1 - y'), which the logit's
    log-det cancels: p(x) = (1 - 2 alpha)^D / (hi - lo)^D for every x in the data range."""
    g = build_component("generator", {"arch": "nice", "data_shape": [6], "hidden": 8, "data_range": [-1, 1]})
    x = torch.rand(4, 6) * 2 - 1
    expected = 6 * (math.log(1 - 2e-7) - math.log(2.0))
    assert torch.allclose(g.log_prob(x), torch.full((4,), expected), atol=1e-4)


def test_dequantize_stays_in_the_pixel_bin():
    k = torch.randint(0, 256, (100,)).float()
    x = k / 127.5 - 1  # ganflow's MNIST scaling
    y = (dequantize(x, torch.rand(100), (-1.0, 1.0)) + 1) / 2
    assert torch.all((y * 256 >= k) & (y * 256 < k + 1))


@pytest.mark.parametrize("bad", [{"latent_dim": 3}, {"prior": "cauchy"}, {"data_range": [1, -1]}])
def test_invalid_configs(bad):
    with pytest.raises(ValueError):
        build_component("generator", {"arch": "nice", "data_shape": [8], **bad})


def test_conv_flow_needs_even_images():
    with pytest.raises(ValueError, match="even H and W"):
        build_component("generator", {"arch": "realnvp-conv", "data_shape": [1, 5, 4]})


@pytest.mark.parametrize("arch", FLOWS)
def test_save_load_keeps_the_density(tmp_path, arch):
    g = _flow(arch).float()
    meta = {"components": {"generator": config_to_dict(g)}, "data": {"dataset": "x"}}
    save_checkpoint(tmp_path, {"generator": g}, meta)
    _, mods = load_modules(tmp_path)
    x = g(torch.randn(5, g.config.latent_dim))
    assert torch.equal(mods["generator"].log_prob(x), g.log_prob(x))


@pytest.mark.parametrize("dim", [2, 7, 784])
@pytest.mark.parametrize("parity", [0, 1])
def test_flat_coupling_split_is_the_even_odd_mask(dim, parity):
    """The gather-free split/merge (kept for a CUDA-resident DGflow step) is exactly h[:, even/odd]."""
    from ganflow.models.flowgan.base import FlatCoupling

    c = FlatCoupling(dim, parity, hidden=8, depth=1, affine=True)
    h = torch.randn(5, dim)
    idx = torch.arange(dim)
    keep, change = idx[idx % 2 == parity], idx[idx % 2 != parity]
    a, b = c._split(h)
    assert torch.equal(a, h[:, keep]) and torch.equal(b, h[:, change])
    assert torch.equal(c._merge(a, b), h)
