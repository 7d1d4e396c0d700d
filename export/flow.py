"""Export of FIS-GAN's latent flow: flow/sample.onnx h -> (z, log_q) and flow/log_prob.onnx z -> log_q.

MAF's sampling and IAF's density are sequential over dimensions; their d sweeps are a Python loop,
so the exported graph unrolls them (d * layers network evaluations, fine for d <= 64)."""

from __future__ import annotations

import torch
from torch import nn

from ganflow.export.graph import EXPORTERS, Graph, GraphSpec


class FlowSample(nn.Module):
    """h [N, d] ~ N(0, I) -> (z [N, d], log Q(z) [N]): one inverse pass of the flow."""

    def __init__(self, flow: nn.Module) -> None:
        super().__init__()
        self.flow = flow

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.flow.sample_from(h)


class FlowLogProb(nn.Module):
    """z [N, d] -> log Q(z) [N] (FIS-GAN eq. 3)."""

    def __init__(self, flow: nn.Module) -> None:
        super().__init__()
        self.flow = flow

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.flow.log_prob(z)


@EXPORTERS.register("flow")
def flow_graphs(module: nn.Module) -> list[Graph]:
    d = module.config.latent_dim
    sample = GraphSpec("flow/sample.onnx", [("h", ["batch", d])], [("z", ["batch", d]), ("log_q", ["batch"])])
    log_prob = GraphSpec("flow/log_prob.onnx", [("z", ["batch", d])], [("log_q", ["batch"])])
    return [
        Graph("flow", sample, FlowSample(module).eval()),
        Graph("flow_log_prob", log_prob, FlowLogProb(module).eval()),
    ]
