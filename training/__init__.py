"""ganflow.training: datasets, losses and training loops (torch)."""

from ganflow.training.config import TrainConfig
from ganflow.training.gan import default_components, train_gan

__all__ = ["TrainConfig", "default_components", "train_gan"]
