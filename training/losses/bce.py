"""Non-saturating GAN loss (Goodfellow et al. 2014, section 3): BCE on critic logits."""

from __future__ import annotations

import torch.nn.functional as F

from ganflow.training.losses.base import LOSSES, GANLoss, wmean


@LOSSES.register("bce")
class NonSaturatingLoss(GANLoss):
    """D: -log s(D(x)) - log(1 - s(D(G(z)))); G: -log s(D(G(z))). The logit estimates log p_data/p_g."""

    n_critic = 1

    def critic_loss(self, critic, real, fake, rng, weights=None):
        d_real, d_fake = critic(real), critic(fake)
        loss = F.softplus(-d_real).mean() + wmean(F.softplus(d_fake), weights)
        return loss, {"d_real": d_real.mean().item(), "d_fake": d_fake.mean().item()}

    def generator_loss(self, critic, fake, weights=None):
        return wmean(F.softplus(-critic(fake)), weights)
