"""NICE (Dinh et al. 2015): additive couplings with alternating even/odd masks and a diagonal scaling.

The authors' Flow-GAN MNIST model (REFERENCES.md): 4 couplings, coupling nets 392 -> 1000 ->
(5 x 1000) -> 392 with ReLU (six hidden layers of 1000 units: depth=6, about 23.1M parameters at
28x28), then y = h exp(s), logistic prior.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganflow.models.flowgan.base import FlatCouplingConfig, FlatCouplingGenerator
from ganflow.models.registry import GENERATORS


@dataclass(frozen=True)
class NICEConfig(FlatCouplingConfig):
    prior: str = "logistic"
    couplings: int = 4
    hidden: int = 1000
    depth: int = 6  # hidden layers per coupling net


@GENERATORS.register("nice")
class NICEGenerator(FlatCouplingGenerator):
    Config = NICEConfig
    affine = False  # additive couplings

    @classmethod
    def example_config(cls) -> dict:
        return {"arch": "nice", "latent_dim": 8, "data_shape": [8], "hidden": 16, "depth": 2}
