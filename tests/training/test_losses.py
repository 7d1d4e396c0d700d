"""GAN losses: registry, known values and the gradient penalty."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganflow.training.config import TrainConfig
from ganflow.training.distributed import BatchRNG, Dist
from ganflow.training.losses import LOSSES
from ganflow.training.losses.wgan_gp import gradient_penalty


class Const(nn.Module):
    def __init__(self, real: float, fake: float):
        super().__init__()
        self.real, self.fake = real, fake

    def forward(self, x):
        return torch.where(
            x[:, :1] > 0, torch.full_like(x[:, :1], self.real), torch.full_like(x[:, :1], self.fake)
        )


def test_registry_names():
    assert {"bce", "hinge", "wgan-gp", "f:kl", "f:rkl", "f:pearson", "f:hellinger", "f:js", "f:gan"} == set(
        LOSSES.names()
    )
    with pytest.raises(ValueError, match="unknown loss"):
        TrainConfig(loss="wgan")


def test_bce_known_value():
    loss = LOSSES.get("bce")()
    real, fake = torch.ones(4, 2), -torch.ones(4, 2)
    d_loss, _ = loss.critic_loss(Const(0.0, 0.0), real, fake, BatchRNG(torch.Generator(), Dist()))
    assert d_loss.item() == pytest.approx(2 * math.log(2))  # D = 1/2 everywhere
    g_loss = loss.generator_loss(Const(0.0, 2.0), fake)
    assert g_loss.item() == pytest.approx(math.log1p(math.exp(-2.0)))


def test_hinge_known_value():
    loss = LOSSES.get("hinge")()
    d_loss, _ = loss.critic_loss(
        Const(0.5, 0.5), torch.ones(3, 2), -torch.ones(3, 2), BatchRNG(torch.Generator(), Dist())
    )
    assert d_loss.item() == pytest.approx(0.5 + 1.5)


def test_weighted_generator_loss():
    loss = LOSSES.get("wgan-gp")()
    critic = nn.Linear(2, 1)
    fake = torch.randn(5, 2)
    w = torch.tensor([5.0, 0, 0, 0, 0])  # weights have mean 1 over the (global) batch
    assert loss.generator_loss(critic, fake, w).item() == pytest.approx(-critic(fake[:1]).item())
    # not renormalised per batch: under torchrun, ranks' weighted means average to the global one
    halves = [loss.generator_loss(critic, fake[i : i + 2], w2) for i, w2 in ((0, w[:2]), (2, w[2:4]))]
    whole = loss.generator_loss(critic, fake[:4], w[:4])
    assert (sum(halves) / 2).item() == pytest.approx(whole.item())


def test_gradient_penalty_zero_for_unit_slope():
    critic = nn.Linear(3, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0]]))  # ||grad|| = 1 everywhere
    gp = gradient_penalty(critic, torch.randn(8, 3), torch.randn(8, 3), BatchRNG(torch.Generator(), Dist()))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        critic.weight.mul_(3)  # ||grad|| = 3 -> (3 - 1)^2
    gp = gradient_penalty(critic, torch.randn(8, 3), torch.randn(8, 3), BatchRNG(torch.Generator(), Dist()))
    assert gp.item() == pytest.approx(4.0)


@pytest.mark.parametrize("name", LOSSES.names())
def test_every_loss_is_a_finite_differentiable_scalar_and_uniform_weights_change_nothing(name):
    """The contract of every registered loss: scalar critic and generator objectives with
    gradients for the critic and (through the fakes) the generator; mean-1 uniform weights give
    the unweighted values."""
    torch.manual_seed(0)
    loss = LOSSES.get(name).from_config(TrainConfig(loss=name))
    critic = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake = torch.randn(16, 2), torch.randn(16, 2, requires_grad=True)
    rng = lambda: BatchRNG(torch.Generator().manual_seed(1), Dist())  # noqa: E731
    d_loss, stats = loss.critic_loss(critic, real, fake.detach(), rng())
    assert d_loss.ndim == 0 and torch.isfinite(d_loss) and isinstance(stats, dict)
    d_loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in critic.parameters())
    g_loss = loss.generator_loss(critic, fake)
    assert g_loss.ndim == 0 and torch.isfinite(g_loss)
    (grad,) = torch.autograd.grad(g_loss, fake)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    ones = torch.ones(16)
    torch.testing.assert_close(loss.generator_loss(critic, fake, ones), g_loss)
    torch.testing.assert_close(loss.critic_loss(critic, real, fake.detach(), rng(), ones)[0], d_loss.detach())
    assert loss.n_critic >= 1
