"""Exported graphs: their signatures, the two registries that make them, and the export check.

EXPORTERS: component name -> fn(module) -> [Graph] (a component may give several graphs, e.g. a
flow's sample and log_prob). DERIVED: graph family -> fn(modules, meta) -> [Graph] for graphs
built from several components (e.g. the DGflow step from generator + critic); [] when the run
lacks what they need. Exporters register in their own modules (components.py, flow.py,
likelihood.py, refine.py), all imported by ganflow/export/__init__.py: one way, no cycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganflow.export.cuda_check import cuda_problems
from ganflow.export.onnx_export import check_parity, export_onnx
from ganflow.models.registry import Registry

EXPORTERS: Registry = Registry("exportable component")
DERIVED: Registry = Registry("derived graph")


@dataclass(frozen=True)
class GraphSpec:
    """Inputs/outputs of one exported graph: names and shapes ("batch" is symbolic)."""

    path: str
    inputs: list[tuple[str, list[Any]]]
    outputs: list[tuple[str, list[Any]]]
    make: Callable[[int, torch.Generator], list[torch.Tensor]] | None = None  # default: N(0, 1)
    kinks: bool = False  # outputs are gradients through ReLU-like kinks (onnx_export.KINK_FRACTION)

    def make_inputs(self, n: int, gen: torch.Generator) -> list[torch.Tensor]:
        """Random test inputs at batch n (inputs without a "batch" axis keep their shape)."""
        if self.make is not None:
            return self.make(n, gen)
        return [
            torch.randn([n if s == "batch" else s for s in shape], generator=gen) for _, shape in self.inputs
        ]

    def manifest_io(self) -> dict[str, list[dict[str, Any]]]:
        """The manifest's "inputs"/"outputs" entries: name, shape (symbolic batch), dtype."""
        return {
            side: [{"name": n, "shape": s, "dtype": "float32"} for n, s in items]
            for side, items in (("inputs", self.inputs), ("outputs", self.outputs))
        }

    @property
    def dynamic_batch(self) -> list[bool]:
        return [bool(shape) and shape[0] == "batch" for _, shape in self.inputs]


@dataclass(frozen=True)
class Graph:
    """One ONNX file of a bundle: its manifest key, signature, and the torch module it exports
    (parity is checked against that module)."""

    component: str
    spec: GraphSpec
    module: torch.nn.Module


def write_graph(graph: Graph, path: str | Path) -> None:
    """Export one graph to `path` (dynamic batch, checker included), traced on batch-8 inputs."""
    spec, names = graph.spec, [n for n, _ in graph.spec.inputs]
    gen = torch.Generator().manual_seed(0)
    outputs = [n for n, _ in spec.outputs]
    export_onnx(graph.module, spec.make_inputs(8, gen), names, outputs, path, spec.dynamic_batch)


def export_graph(graph: Graph, path: str | Path) -> float:
    """Export one graph to `path` (checker included), then check onnxruntime against the module
    at batch 1, 7 and 64; returns the worst max |diff| (ExportError past the tolerance)."""
    write_graph(graph, path)
    spec = graph.spec
    return check_parity(graph.module, path, spec.make_inputs, [n for n, _ in spec.inputs], kinks=spec.kinks)


def cuda_placement(path: str | Path, entry: dict[str, Any], log) -> None:
    """Check that the graph at `path` stays on onnxruntime's CUDA provider (export/cuda_check.py).
    If not, say so and record it in its manifest `entry`: the bundle still works on the CPU, and
    on CUDA with --allow-cpu-fallback (the sampler's CUDA sessions refuse CPU fallback)."""
    import onnx

    problems = cuda_problems(onnx.load(str(path)))
    if problems:
        entry["cuda_cpu_nodes"] = problems[:10]
        log(
            f"warning: {Path(path).name}: {len(problems)} node(s) would run on the CPU under onnxruntime's "
            f"CUDA provider (first: {problems[0]}); sampling it on CUDA needs --allow-cpu-fallback"
        )


def graphs_of(modules: dict[str, torch.nn.Module], meta: dict[str, Any]) -> list[Graph]:
    """Every graph a run exports: per-component ones, then the derived ones."""
    out = [g for name, m in modules.items() if name in EXPORTERS for g in EXPORTERS.get(name)(m)]
    out += [g for _, build in DERIVED.items() for g in build(modules, meta)]
    return out
