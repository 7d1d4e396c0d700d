"""Real NVP with MLP couplings (Dinh et al. 2017, eq. 7) on flattened data: affine couplings with
alternating even/odd masks, a Gaussian prior by default."""

from __future__ import annotations

from dataclasses import dataclass

from ganflow.models.flowgan.base import DiagonalScale, FlatCoupling, FlowGANConfig, FlowGenerator
from ganflow.models.registry import GENERATORS


@dataclass(frozen=True)
class RealNVPMLPConfig(FlowGANConfig):
    couplings: int = 6
    hidden: int = 256
    depth: int = 2  # hidden layers per coupling net

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.couplings < 1 or self.hidden <= 0 or self.depth < 1:
            raise ValueError("couplings and depth must be >= 1 and hidden > 0")
        if self.data_size < 2:
            raise ValueError("a coupling flow needs at least 2 dimensions")


@GENERATORS.register("realnvp-mlp")
class RealNVPMLPGenerator(FlowGenerator):
    Config = RealNVPMLPConfig

    def __init__(self, config: RealNVPMLPConfig) -> None:
        super().__init__(config)
        d = config.data_size
        for i in range(config.couplings):
            self.layers.append(FlatCoupling(d, i % 2, config.hidden, config.depth, affine=True))
        self.layers.append(DiagonalScale((d,)))

    @classmethod
    def example_config(cls) -> dict:
        return {"arch": "realnvp-mlp", "latent_dim": 8, "data_shape": [8], "hidden": 16, "couplings": 3}
