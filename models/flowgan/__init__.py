"""Flow-GAN (Grover et al. 2018): invertible data-space generators with an exact log-likelihood."""

from ganflow.models.flowgan.base import FlowGANConfig, FlowGenerator
from ganflow.models.flowgan.preprocess import LogitPreprocess, dequantize
from ganflow.models.flowgan.priors import PRIORS

# importing the architectures registers them in GENERATORS
from ganflow.models.flowgan import nice, realnvp, realnvp_conv  # noqa: E402,F401  isort: skip

__all__ = ["PRIORS", "FlowGANConfig", "FlowGenerator", "LogitPreprocess", "dequantize"]
