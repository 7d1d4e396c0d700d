"""NICE (Dinh et al. 2015): additive couplings with alternating even/odd masks and a diagonal scaling.

The authors' Flow-GAN MNIST model (REFERENCES.md): 4 couplings, coupling nets 392 -> 1000 ->
(5 x 1000) -> 392 with ReLU (six hidden layers of 1000 units: depth=6, about 23.1M parameters at
28x28), then y = h exp(s), logistic prior.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganflow.models.flowgan.base import DiagonalScale, FlatCoupling, FlowGANConfig, FlowGenerator
from ganflow.models.registry import GENERATORS


@dataclass(frozen=True)
class NICEConfig(FlowGANConfig):
    prior: str = "logistic"
    couplings: int = 4
    hidden: int = 1000
    depth: int = 6  # hidden layers per coupling net

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.couplings < 1 or self.hidden <= 0 or self.depth < 1:
            raise ValueError("couplings and depth must be >= 1 and hidden > 0")
        if self.data_size < 2:
            raise ValueError("a coupling flow needs at least 2 dimensions")


@GENERATORS.register("nice")
class NICEGenerator(FlowGenerator):
    Config = NICEConfig

    def __init__(self, config: NICEConfig) -> None:
        super().__init__(config)
        d = config.data_size
        for i in range(config.couplings):
            self.layers.append(FlatCoupling(d, i % 2, config.hidden, config.depth, affine=False))
        self.layers.append(DiagonalScale((d,)))

    @classmethod
    def example_config(cls) -> dict:
        return {"arch": "nice", "latent_dim": 8, "data_shape": [8], "hidden": 16, "depth": 2}
