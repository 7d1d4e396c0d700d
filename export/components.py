"""How each component is exported: its graph signature and its random test inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ganflow.models.registry import Registry

EXPORTERS: Registry = Registry("exportable component")


@dataclass(frozen=True)
class GraphSpec:
    """Inputs/outputs of one exported graph: names and shapes ("batch" is symbolic)."""

    path: str
    inputs: list[tuple[str, list[Any]]]
    outputs: list[tuple[str, list[Any]]]

    def make_inputs(self, n: int, gen: torch.Generator) -> list[torch.Tensor]:
        return [
            torch.randn([n if s == "batch" else s for s in shape], generator=gen) for _, shape in self.inputs
        ]


@EXPORTERS.register("generator")
def generator_spec(module: torch.nn.Module) -> GraphSpec:
    d, shape = module.config.latent_dim, list(module.config.data_shape)
    return GraphSpec("generator/model.onnx", [("z", ["batch", d])], [("x", ["batch", *shape])])


@EXPORTERS.register("critic")
def critic_spec(module: torch.nn.Module) -> GraphSpec:
    shape = list(module.config.data_shape)
    return GraphSpec("critic/model.onnx", [("x", ["batch", *shape])], [("logit", ["batch", 1])])


@EXPORTERS.register("classifier")
def classifier_spec(module: torch.nn.Module) -> GraphSpec:
    cfg = module.config
    return GraphSpec(
        "classifier/model.onnx",
        [("x", ["batch", *cfg.data_shape])],
        [("logits", ["batch", cfg.n_classes]), ("features", ["batch", cfg.hidden])],
    )


@EXPORTERS.register("weight")
def weight_spec(module: torch.nn.Module) -> GraphSpec:
    d = module.config.latent_dim
    return GraphSpec("weight/model.onnx", [("z", ["batch", d])], [("w", ["batch"])])
