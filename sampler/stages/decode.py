"""Decoding stage: z [N, d] -> x [N, *shape] through the bundle's generator graph."""

from __future__ import annotations

import numpy as np

from ganflow.sampler.binding import FixedBinding, capture_rows
from ganflow.sampler.errors import NumericsError
from ganflow.sampler.stages.base import DECODERS, Context, NoOptions


@DECODERS.register("generator")
class Decoder:
    """z [N, d] -> x [N, *shape] with the generator graph; NaN/inf raise, values clip to range.
    With --cuda-graph the graph runs on fixed buffers (one capture per batch size)."""

    needs = ("generator",)
    Options = NoOptions

    def __init__(self, ctx: Context, options: NoOptions) -> None:
        self.stats: dict[str, float] = {}
        self.comp = comp = ctx.bundle.component("generator", "decoding")
        self.runtime = ctx.runtime
        self.session = None if ctx.runtime.cuda_graph else ctx.runtime.session(comp)
        self.input = comp.inputs[0]["name"]
        self.range = ctx.bundle.data_range
        self._bound: dict[int, FixedBinding] = {}  # rows -> binding on a session of its own (--cuda-graph)

    def _run_graph(self, z: np.ndarray) -> np.ndarray:
        rows = capture_rows(self._bound, len(z))
        if rows not in self._bound:
            rt, c = self.runtime, self.comp
            self._bound[rows] = FixedBinding(
                rt.session(c, f"decode-{rows}"), rt.ort, rt.ort_device, rows,
                {self.input: c.inputs[0]["shape"][1:]}, {c.outputs[0]["name"]: c.outputs[0]["shape"][1:]},
            )  # fmt: skip
        bound = self._bound[rows]
        with self.runtime.graph_lock:
            bound.set(self.input, z)
            bound.run()
            return bound.get(self.comp.outputs[0]["name"], len(z))

    def __call__(self, z: np.ndarray) -> np.ndarray:
        if self.runtime.cuda_graph:
            x = self._run_graph(z)
        else:
            (x,) = self.session.run(None, {self.input: np.ascontiguousarray(z, dtype=np.float32)})
        if not np.isfinite(x).all():
            raise NumericsError(
                "the generator produced NaN/inf: the bundle's weights are broken; "
                "re-export it from a healthy checkpoint"
            )
        if self.range is not None:
            np.clip(x, *self.range, out=x)
        return x
