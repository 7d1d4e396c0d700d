"""fp16 variants of the exported graphs (`ganflow export --fp16`), validated against fp32 torch.

A variant has the fp32 graph's signature (float32 inputs and outputs, cast at the edges) with fp16
weights and fp16 arithmetic inside: half the weight bytes and tensor-core convolutions on CUDA. The
DGflow step computes the critic gradient in fp16 but keeps the latent update z + eta s(d) grad +
noise in fp32, so rounding does not accumulate in z over the steps.

Validation: on the parity inputs at batch 1, 7 and 64, the variant's output (onnxruntime) may differ
from the fp32 torch module's by at most FP16_RTOL[component] of the output's largest magnitude, or
for the DGflow step, of the largest step z_next - z. The step gets 5%: the critic gradient through
G and D in fp16 is off by up to ~4% of its largest entry (1% per-sample median) on the MNIST DCGAN
of benchmarks/results/sampling_cpu.md, and torch's own fp16 gives the same, so that is fp16's
precision, not the export's. A variant past its tolerance is not shipped (the export says so);
flows and likelihood graphs are not made fp16 at all (their log-determinants need fp32).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ganflow.export.components import Graph, GraphSpec
from ganflow.export.onnx_export import export_onnx
from ganflow.export.refine import DGflowStep, TracedStep

# component -> tolerance: max |fp16 - fp32| <= FP16_RTOL * max |fp32| (of the step, for refine)
FP16_RTOL = {"generator": 1e-2, "critic": 1e-2, "weight": 1e-2, "refine": 5e-2}
FP16_COMPONENTS = tuple(FP16_RTOL)
VALIDATION_BATCHES = (1, 7, 64)


class HalfIO(nn.Module):
    """A one-input module in fp16 behind float32 inputs and outputs."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.inner = copy.deepcopy(module).eval().half()

    def forward(self, x: torch.Tensor):  # every FP16_COMPONENTS graph but refine has one input
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


def fp16_error(graph: Graph, reference: nn.Module, path: str | Path, seed: int = 1234) -> float:
    """max |variant - fp32| / scale over the validation batches (onnxruntime CPU runs the variant;
    scale = max |fp32 output|, or max |z_next - z| for the DGflow step)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(seed)
    names = [n for n, _ in graph.spec.inputs]
    worst = 0.0
    for n in VALIDATION_BATCHES:
        inputs = graph.spec.make_inputs(n, gen)
        with torch.no_grad():
            ref = reference(*inputs)
        refs = [ref] if torch.is_tensor(ref) else list(ref)
        outs = session.run(None, {k: t.numpy() for k, t in zip(names, inputs, strict=True)})
        for r, o in zip(refs, outs, strict=True):
            r = r.numpy()
            base = inputs[0].numpy() if graph.component == "refine" else 0.0
            scale = max(float(np.abs(r - base).max(initial=0.0)), 1e-6)
            worst = max(worst, float(np.abs(o - r).max(initial=0.0)) / scale)
    return worst


def export_fp16(graph: Graph, reference: nn.Module, path: str | Path) -> float:
    """Export the fp16 graph to `path` and return its relative error against `reference`."""
    gen = torch.Generator().manual_seed(0)
    example = graph.spec.make_inputs(8, gen)
    names = [n for n, _ in graph.spec.inputs]
    outputs = [n for n, _ in graph.spec.outputs]
    export_onnx(graph.module, example, names, outputs, path, graph.spec.dynamic_batch)
    return fp16_error(graph, reference, path)
