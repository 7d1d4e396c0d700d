"""WGAN with gradient penalty (Gulrajani et al. 2017, Algorithm 1)."""

from __future__ import annotations

import torch

from ganflow.training.losses.base import LOSSES, GANLoss, wmean


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, rng):
    """E (||grad D(x_hat)||_2 - 1)^2, x_hat = e x + (1 - e) x~, e ~ U[0, 1] per example.
    `rng` is a training.distributed.BatchRNG."""
    eps = rng.rand(real.shape[0], *(1,) * (real.dim() - 1)).to(real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.reshape(grad.shape[0], -1).norm(dim=1) - 1) ** 2).mean()


@LOSSES.register("wgan-gp")
class WGANGPLoss(GANLoss):
    """D: D(G(z)) - D(x) + lambda GP; G: -D(G(z)). lambda = 10, 5 critic steps (the paper)."""

    n_critic = 5

    def __init__(self, gp_weight: float = 10.0) -> None:
        self.gp_weight = gp_weight

    @classmethod
    def from_config(cls, config) -> WGANGPLoss:
        return cls(gp_weight=config.gp_weight)

    def critic_loss(self, critic, real, fake, rng, weights=None):
        d_real, d_fake = critic(real), critic(fake)
        gp = gradient_penalty(critic, real, fake, rng)
        w_dist = d_real.mean() - wmean(d_fake, weights)
        loss = -w_dist + self.gp_weight * gp
        return loss, {"wasserstein": w_dist.item(), "gp": gp.item()}

    def generator_loss(self, critic, fake, weights=None):
        return -wmean(critic(fake), weights)
