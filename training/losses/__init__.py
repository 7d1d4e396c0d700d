"""GAN losses, one per file, looked up by name in LOSSES (e.g. "bce", "wgan-gp", "hinge")."""

from ganflow.training.losses.base import LOSSES, GANLoss

# importing the loss modules registers them
from ganflow.training.losses import bce, fdiv, hinge, wgan_gp  # noqa: E402,F401  isort: skip

__all__ = ["LOSSES", "GANLoss"]
