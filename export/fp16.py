"""fp16 variants of the exported graphs (`ganflow export --fp16`), validated against fp32 torch.

A variant has the fp32 graph's signature (float32 inputs and outputs, cast at the edges) with fp16
weights and fp16 arithmetic inside: half the weight bytes and tensor-core convolutions on CUDA. The
DGflow step computes the critic gradient in fp16 but keeps the latent update z + eta s(d) grad +
noise in fp32, so rounding does not accumulate in z over the steps.

Validation, on the parity inputs at batch 1, 7 and 64, against the fp32 torch module. Two fp16
results are compared with it: the exported graph on onnxruntime's CPU provider (which checks the
export, but runs fp16 graphs through fp32 kernels, so it sees only the weights' rounding) and the
same fp16 module in torch (fp16 activations, rounded after every op as on a GPU). The larger error,
as a fraction of the output's largest magnitude, must be within FP16_RTOL[component]; a NaN or inf
fails. The DGflow step is compared with its noise set to zero and scaled by its largest drift
eta s(d) grad: the fp16 gradient through G and D is off by up to ~4% of its largest entry (1%
per-sample median) on the MNIST DCGAN of benchmarks/results/sampling_cpu.md, in torch's own fp16
too, so the step gets 10% of the drift, about 0.006 per coordinate at the default eta = 0.1 on
those weights, against Langevin noise of standard deviation sqrt(2 eta gamma) = 0.045 per step.
A variant past its tolerance is not shipped (the export says so); flows and likelihood graphs are
not made fp16 at all (their log-determinants need fp32).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganflow.export.graph import Graph, GraphSpec, write_graph
from ganflow.export.refine import DGflowStep, TracedStep

# component -> tolerance: max |fp16 - fp32| <= FP16_RTOL * max |fp32| (of the drift, for the steps)
FP16_RTOL = {
    "generator": 1e-2,
    "critic": 1e-2,
    "corrector": 1e-2,
    "weight": 1e-2,
    "refine": 1e-1,
    "ddls": 1e-1,
}
FP16_COMPONENTS = tuple(FP16_RTOL)
VALIDATION_BATCHES = (1, 7, 64)


class HalfIO(nn.Module):
    """A one-input module in fp16 behind float32 inputs and outputs."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.inner = copy.deepcopy(module).eval().half()

    def forward(self, x: torch.Tensor):  # every FP16_COMPONENTS graph but the steps has one input
        out = self.inner(x.half())
        return out.float() if torch.is_tensor(out) else tuple(o.float() for o in out)


def half_graph(graph: Graph, example: Sequence[torch.Tensor]) -> Graph | None:
    """The fp16 twin of `graph` (same component and signature, path *.fp16.onnx), or None for
    components that stay fp32."""
    if graph.component not in FP16_COMPONENTS:
        return None
    spec = GraphSpec(
        graph.spec.path.replace(".onnx", ".fp16.onnx"), graph.spec.inputs, graph.spec.outputs, graph.spec.make
    )
    if isinstance(graph.module, TracedStep):
        step: DGflowStep = copy.deepcopy(graph.module.step)
        step.generator.half()
        step.critic.half()
        step.compute_dtype = torch.float16
        return Graph(graph.component, spec, TracedStep(step, list(example)))
    return Graph(graph.component, spec, HalfIO(graph.module))


def _rel(out: np.ndarray, ref: np.ndarray, base: np.ndarray | float) -> float:
    """max |out - ref| / max |ref - base|; inf when `out` is not finite."""
    if not np.isfinite(out).all():
        return float("inf")
    scale = max(float(np.abs(ref - base).max(initial=0.0)), 1e-6)
    return float(np.abs(out - ref).max(initial=0.0)) / scale


def fp16_error(graph: Graph, reference: nn.Module, path: str | Path, seed: int = 1234) -> float:
    """The larger relative error of the fp16 graph (onnxruntime CPU) and of its fp16 torch module
    against the fp32 `reference`, over the validation batches (see the module docstring)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(seed)
    names = [n for n, _ in graph.spec.inputs]
    step = isinstance(graph.module, TracedStep)  # a step graph (refine, ddls): z, noise, eta, gamma
    worst = 0.0
    for n in VALIDATION_BATCHES:
        inputs = graph.spec.make_inputs(n, gen)
        if step:  # z, noise, eta, gamma: without noise, z_next - z is the drift alone
            inputs[1] = torch.zeros_like(inputs[1])
        with torch.no_grad():
            refs, halves = reference(*inputs), graph.module(*inputs)
        refs = [refs] if torch.is_tensor(refs) else list(refs)
        halves = [halves] if torch.is_tensor(halves) else list(halves)
        outs = session.run(None, {k: t.numpy() for k, t in zip(names, inputs, strict=True)})
        base = inputs[0].numpy() if step else 0.0
        for r, o, h in zip(refs, outs, halves, strict=True):
            r = r.numpy()
            worst = max(worst, _rel(o, r, base), _rel(h.numpy(), r, base))
    return worst


def export_fp16(graph: Graph, reference: nn.Module, path: str | Path) -> float:
    """Export the fp16 graph to `path` and return its relative error against `reference`."""
    write_graph(graph, path)
    return fp16_error(graph, reference, path)
