"""Invariants of every registered latent flow: inverse, log-det, density, sampling, save/load."""

from __future__ import annotations

import pytest
import torch

from ganflow.models import FLOWS, build_component, config_to_dict, load_modules, save_checkpoint

NAMES = FLOWS.names()


def _flow(name: str, d: int = 4, seed: int = 0, std: float = 0.3, double: bool = True):
    """A flow with random (non-identity) weights: new flows start as the identity."""
    torch.manual_seed(seed)
    f = build_component("flow", {"arch": name, "latent_dim": d, "layers": 3, "hidden": 16})
    with torch.no_grad():
        for p in f.parameters():
            p.normal_(0, std)
    return f.double() if double else f


def test_every_flow_registered():
    assert set(NAMES) >= {"realnvp", "maf", "iaf"}


@pytest.mark.parametrize("name", NAMES)
def test_new_flow_is_identity(name):
    f = build_component("flow", {"arch": name, "latent_dim": 3})
    z = torch.randn(5, 3)
    h, logdet = f(z)
    assert torch.allclose(h, z) and torch.allclose(logdet, torch.zeros(5))


@pytest.mark.parametrize("name", NAMES)
def test_inverse_round_trip(name):
    f = _flow(name, d=6)
    z = torch.randn(16, 6, dtype=torch.float64) * 2
    h, ld = f(z)
    z2, ld2 = f.inverse(h)
    assert torch.allclose(z2, z, atol=1e-10)
    assert torch.allclose(ld + ld2, torch.zeros(16, dtype=torch.float64), atol=1e-10)
    h2, _ = f(f.inverse(z)[0])
    assert torch.allclose(h2, z, atol=1e-10)
    assert not torch.allclose(h, z, atol=1e-3), "the test flow must not be the identity"


@pytest.mark.parametrize("name", NAMES)
def test_logdet_matches_autograd_jacobian(name):
    f = _flow(name, d=5)
    for x in torch.randn(3, 5, dtype=torch.float64):
        jac_f = torch.autograd.functional.jacobian(lambda v: f(v[None])[0][0], x)
        jac_i = torch.autograd.functional.jacobian(lambda v: f.inverse(v[None])[0][0], x)
        assert torch.isclose(torch.linalg.slogdet(jac_f)[1], f(x[None])[1][0], atol=1e-9)
        assert torch.isclose(torch.linalg.slogdet(jac_i)[1], f.inverse(x[None])[1][0], atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_density_integrates_to_one_and_matches_samples(name):
    """2-D: quadrature of Q on a grid sums to 1, and E_Q[z], E_Q[z^2] by quadrature equal the
    Monte Carlo means of flow samples (so sample() draws from the density log_prob() gives)."""
    f = _flow(name, d=2, std=0.25)
    g = torch.linspace(-12, 12, 481, dtype=torch.float64)
    grid = torch.cartesian_prod(g, g)
    with torch.no_grad():
        q = f.log_prob(grid).exp() * (g[1] - g[0]) ** 2
        z, log_q = f.sample(20000, torch.Generator().manual_seed(1))
        assert torch.allclose(log_q, f.log_prob(z), atol=1e-9)
    assert abs(q.sum().item() - 1) < 2e-3
    for k in (1, 2):
        quad = (q[:, None] * grid**k).sum(0)
        mc, se = (z**k).mean(0), (z**k).std(0) / 20000**0.5
        assert ((mc - quad).abs() < 5 * se + 1e-3).all(), (k, mc, quad)


@pytest.mark.parametrize("name", NAMES)
def test_save_load(tmp_path, name):
    f = _flow(name, d=4, double=False)
    save_checkpoint(tmp_path, {"flow": f}, {"components": {"flow": config_to_dict(f)}})
    _, mods = load_modules(tmp_path)
    g = mods["flow"]
    assert type(g) is type(f) and g.config == f.config
    z = torch.randn(8, 4)
    assert torch.equal(f.log_prob(z), g.log_prob(z))
    assert torch.equal(f.inverse(z)[0], g.inverse(z)[0])


@pytest.mark.parametrize("name", NAMES)
def test_bad_config(name):
    with pytest.raises(ValueError, match="latent_dim"):
        build_component("flow", {"arch": name, "latent_dim": 1})
    with pytest.raises(ValueError, match="layers"):
        build_component("flow", {"arch": name, "latent_dim": 4, "layers": 0})
