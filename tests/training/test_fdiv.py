"""f-GAN losses against the table: conjugates, activations, thresholds, the GAN case, a known KL."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ganflow.sampler.data import load_dataset
from ganflow.training import TrainConfig, default_components, train_gan
from ganflow.training.distributed import BatchRNG, Dist
from ganflow.training.losses import LOSSES
from ganflow.training.losses.fdiv import DIVERGENCES

# the generator functions f(u), u > 0, written independently from Nowozin et al. (2016), Table 1
F_OF_U = {
    "kl": lambda u: u * np.log(u),
    "rkl": lambda u: -np.log(u),
    "pearson": lambda u: (u - 1) ** 2,
    "hellinger": lambda u: (np.sqrt(u) - 1) ** 2,
    "js": lambda u: -(u + 1) * np.log((1 + u) / 2) + u * np.log(u),
    "gan": lambda u: u * np.log(u) - (u + 1) * np.log(u + 1),
}
V = torch.linspace(-30, 30, 601, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_registered_and_valid(name):
    assert f"f:{name}" in LOSSES.names()
    TrainConfig(loss=f"f:{name}")


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_activation_lands_in_the_conjugate_domain(name):
    div = DIVERGENCES[name]
    t = div.activation(V)
    direct = div.conjugate(t)
    stable = div.conjugate_of_activation(V)
    assert torch.isfinite(stable).all()
    ok = torch.isfinite(direct) & (V.abs() < 15)  # where the direct form does not overflow
    torch.testing.assert_close(stable[ok], direct[ok], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_conjugate_is_the_legendre_transform(name):
    div, f = DIVERGENCES[name], F_OF_U[name]
    u = np.exp(np.linspace(-9, 6, 200_001))  # u in (1e-4, 400)
    fu = f(u)
    for v in np.linspace(-2, 2, 9):  # t = g_f(v) is inside the domain
        t = float(div.activation(torch.tensor(v, dtype=torch.float64)))
        sup = float(np.max(u * t - fu))
        assert float(div.conjugate(torch.tensor(t, dtype=torch.float64))) == pytest.approx(
            sup, rel=1e-4, abs=1e-4
        )


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_threshold(name):
    div = DIVERGENCES[name]
    t = torch.tensor(div.threshold, dtype=torch.float64)
    f1 = float(F_OF_U[name](np.float64(1.0)))  # 0 for all but "gan" (f(1) = -log 4)
    assert float(div.conjugate(t)) == pytest.approx(div.threshold - f1, abs=1e-12)  # f*(f'(1)) = f'(1) - f(1)


def test_gan_divergence_is_the_bce_loss():
    torch.manual_seed(0)
    critic = nn.Linear(3, 1)
    real, fake = torch.randn(16, 3), torch.randn(16, 3) + 1
    rng = BatchRNG(torch.Generator(), Dist())
    grads = []
    for name in ("f:gan", "bce"):
        critic.zero_grad()
        loss, _ = LOSSES.get(name)().critic_loss(critic, real, fake, rng)
        loss.backward()
        grads.append([p.grad.clone() for p in critic.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)
    g_f = LOSSES.get("f:gan")().generator_loss(critic, fake)
    g_b = LOSSES.get("bce")().generator_loss(critic, fake)
    assert g_f.item() == pytest.approx(g_b.item())  # -E[g_f(v)] = E[softplus(-v)]: non-saturating


@pytest.mark.parametrize(
    "name,optimal,closed_form",
    [
        ("kl", lambda r: 1 + np.log(r), 0.5),  # f'(r) = 1 + log r; KL(N(0,1) || N(1,1)) = 1/2
        ("pearson", lambda r: 2 * (r - 1), math.e - 1),  # f'(r) = 2(r - 1); chi^2 = exp(1) - 1
    ],
)
def test_estimate_at_the_optimal_critic(name, optimal, closed_form):
    rng = np.random.default_rng(0)
    xp, xq = rng.standard_normal(400_000), rng.standard_normal(400_000) + 1

    def critic(x):  # g_f is the identity here, so v = f'(p(x) / q(x))
        return torch.from_numpy(optimal(np.exp(-(x**2) / 2 + (x - 1) ** 2 / 2)))[:, None]

    loss, _ = LOSSES.get(f"f:{name}")().critic_loss(critic, xp, xq, None)
    assert -loss.item() == pytest.approx(closed_form, rel=0.05)


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_short_training_stays_finite(tmp_path, name):
    ds = load_dataset("gaussians8")
    cfg = TrainConfig(
        loss=f"f:{name}",
        steps=60,
        batch_size=64,
        lr_g=1e-4,
        lr_d=1e-4,
        log_every=20,
        eval_every=60,
        sample_every=60,
        ckpt_every=60,
        eval_samples=256,
    )
    meta = train_gan(tmp_path, ds, default_components(ds.spec, width=32), cfg, progress=False, device="cpu")
    assert meta["summary"]["step"] == 60
    from ganflow.models import load_checkpoint

    _, states = load_checkpoint(tmp_path)
    assert all(torch.isfinite(t).all() for s in states.values() for t in s.values())
