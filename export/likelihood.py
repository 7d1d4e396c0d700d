"""The likelihood graph of an invertible generator: x [batch, *shape] -> log_px [batch] (nats).

Registered in DERIVED, so every run whose generator has `log_prob` (Flow-GAN, models/flowgan)
exports `likelihood/model.onnx` beside `generator/model.onnx`. The graph is the exact log-density
of the generator's distribution in the data space, preprocessing included (range rescale, alpha
squeeze, logit and their log-determinants). It holds no dequantisation: a caller scoring
quantised images adds the noise itself (the sampler's nll metric: y = (255 u + U) / 256, seeded)
and converts units (sampler/metrics/nll.py). Parity inputs are uniform over the data range (or
standard normal for unbounded data), where the density is finite.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ganflow.export.graph import DERIVED, Graph, GraphSpec


class LogProb(nn.Module):
    """x [N, *shape] -> log p(x) [N] of an invertible generator."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.generator.log_prob(x)


def _inputs(shape: list[int], data_range: Any):
    def make(n: int, gen: torch.Generator) -> list[torch.Tensor]:
        if data_range is None:
            return [torch.randn(n, *shape, generator=gen)]
        lo, hi = data_range
        return [lo + (hi - lo) * torch.rand(n, *shape, generator=gen)]

    return make


@DERIVED.register("likelihood")
def likelihood_graphs(modules: dict[str, nn.Module], meta: dict[str, Any]) -> list[Graph]:
    g = modules.get("generator")
    if g is None or not hasattr(g, "log_prob"):
        return []
    shape = list(g.config.data_shape)
    spec = GraphSpec(
        "likelihood/model.onnx",
        [("x", ["batch", *shape])],
        [("log_px", ["batch"])],
        make=_inputs(shape, g.config.data_range),
    )
    return [Graph("likelihood", spec, LogProb(g))]
