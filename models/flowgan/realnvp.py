"""Real NVP with MLP couplings (Dinh et al. 2017, eq. 7) on flattened data: affine couplings with
alternating even/odd masks, a Gaussian prior by default."""

from __future__ import annotations

from dataclasses import dataclass

from ganflow.models.flowgan.base import FlatCouplingConfig, FlatCouplingGenerator
from ganflow.models.registry import GENERATORS


@dataclass(frozen=True)
class RealNVPMLPConfig(FlatCouplingConfig):
    couplings: int = 6
    hidden: int = 256
    depth: int = 2  # hidden layers per coupling net


@GENERATORS.register("realnvp-mlp")
class RealNVPMLPGenerator(FlatCouplingGenerator):
    Config = RealNVPMLPConfig
    affine = True

    @classmethod
    def example_config(cls) -> dict:
        return {"arch": "realnvp-mlp", "latent_dim": 8, "data_shape": [8], "hidden": 16, "couplings": 3}
