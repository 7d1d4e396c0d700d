"""Hinge GAN loss (Lim & Ye 2017; Miyato et al. 2018, eq. 16-17)."""

from __future__ import annotations

import torch.nn.functional as F

from ganflow.training.losses.base import LOSSES, GANLoss, wmean


@LOSSES.register("hinge")
class HingeLoss(GANLoss):
    """D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z))."""

    n_critic = 1

    def critic_loss(self, critic, real, fake, rng, weights=None):
        d_real, d_fake = critic(real), critic(fake)
        loss = F.relu(1 - d_real).mean() + wmean(F.relu(1 + d_fake), weights)
        return loss, {"d_real": d_real.mean().item(), "d_fake": d_fake.mean().item()}

    def generator_loss(self, critic, fake, weights=None):
        return -wmean(critic(fake), weights)
