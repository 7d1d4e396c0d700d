"""The latent pipeline: propose -> select -> refine -> decode, and the --method presets."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganflow.sampler.binding import FixedBinding, capture_rows
from ganflow.sampler.bundle import Bundle
from ganflow.sampler.errors import ComponentMissingError, InputError, MethodError, NumericsError
from ganflow.sampler.registry import Registry
from ganflow.sampler.runtime import Runtime
from ganflow.sampler.stages import PROPOSALS, REFINERS, SELECTORS, Context


@dataclass(frozen=True)
class Preset:
    """A named composition of stages (what --method picks)."""

    proposal: str
    select: str | None = None
    refine: str | None = None
    summary: str = ""


METHODS: Registry = Registry("sampling method", MethodError)
METHODS.register("plain")(Preset("gaussian", summary="z ~ N(0, I) (optionally truncated), decode"))
METHODS.register("latent-rs")(
    Preset("gaussian", select="latent-rs", summary="LatentRS: keep z w.p. min(1, w/m)")
)
METHODS.register("flow")(Preset("flow", summary="FIS-GAN: z from the latent flow Q (flow/sample.onnx)"))
METHODS.register("dgflow")(
    Preset("gaussian", refine="dgflow", summary="DGflow: K critic-gradient steps on z (refine/model.onnx)")
)


def stage_needs(proposal: str, select: str | None, refine: str | None) -> list[str]:
    """Bundle components a composition needs (the generator always)."""
    needs = ["generator"]
    for reg, name in ((PROPOSALS, proposal), (SELECTORS, select), (REFINERS, refine)):
        if name is not None:
            needs += list(getattr(reg.get(name), "needs", ()))
    return needs


def supported_methods(bundle: Bundle) -> list[str]:
    out = []
    for name in METHODS.names():
        p = METHODS.get(name)
        if all(c in bundle.components for c in stage_needs(p.proposal, p.select, p.refine)):
            out.append(name)
    return out


class Decoder:
    """z [N, d] -> x [N, *shape] with the generator graph; NaN/inf raise, values clip to range.
    With --cuda-graph the graph runs on fixed buffers (one capture per batch size)."""

    def __init__(self, ctx: Context) -> None:
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


@dataclass
class Pipeline:
    bundle: Bundle
    runtime: Runtime
    method: str = "plain"
    seed: int = 0
    proposal: str | None = None  # stage flags override the preset's stages
    select: str | None = None
    refine: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        preset = METHODS.get(self.method)
        self.proposal = self.proposal or preset.proposal
        self.select = self.select or preset.select
        self.refine = self.refine or preset.refine
        needs = stage_needs(self.proposal, self.select, self.refine)
        missing = [c for c in needs if c not in self.bundle.components]
        if missing:
            raise ComponentMissingError(
                f"bundle {self.bundle.root} has no {', '.join(map(repr, missing))} component, needed "
                f"for {self.describe()}; it supports: {', '.join(supported_methods(self.bundle)) or 'none'}"
            )
        precision = {c: self._precision(c) for c in needs}
        ctx = Context(self.bundle, self.runtime, self.seed, self.options)
        self._propose = PROPOSALS.get(self.proposal)(ctx)
        self._select = SELECTORS.get(self.select)(ctx, self._propose) if self.select else None
        self._refine = REFINERS.get(self.refine)(ctx) if self.refine else None
        self._decode = Decoder(ctx)
        self.stats = {
            "method": self.describe(),
            "provider": self.runtime.provider,
            "precision": precision,
            "samples": 0,
            "seconds": 0.0,
        }

    def _precision(self, name: str) -> str:
        """The precision component `name` runs in: --precision where the bundle has that variant."""
        want = self.runtime.precision
        if want == "fp32":
            return "fp32"
        if not any(want in c.variants for c in self.bundle.components.values()):
            raise InputError(
                f"bundle {self.bundle.root} has no {want} graphs: export it with `ganflow export --{want}`, "
                "or drop --precision"
            )
        return want if want in self.bundle.components[name].variants else "fp32"

    def describe(self) -> str:
        stages = [self.proposal, self.select, self.refine, "decode"]
        return " -> ".join(s for s in stages if s)

    def generate(
        self,
        n: int,
        batch_size: int = 256,
        start: int = 0,
        todo: Callable[[int, int], bool] | None = None,
    ) -> Iterator[tuple[int, np.ndarray | None, np.ndarray | None]]:
        """Yield (first index, z [b, d], x [b, *shape]) for samples start .. n-1, in order;
        batches for which `todo(lo, hi)` is False (already done) come as (lo, None, None)."""
        if n <= 0 or batch_size <= 0 or start < 0:
            raise InputError(f"need N > 0 and batch size > 0, got N={n}, batch={batch_size}")
        for lo in range(start, n, batch_size):
            t0 = time.perf_counter()
            hi = min(lo + batch_size, n)
            if todo is not None and not todo(lo, hi):
                yield lo, None, None
                continue
            z = self._propose(lo, hi)
            if self._select is not None:
                z = self._select(z, lo, hi)
            if self._refine is not None:
                z = self._refine(z, lo, hi)
            if not np.isfinite(z).all():
                raise NumericsError(
                    f"NaN/inf in the latents after {self.describe()}: lower the step size or check the bundle"
                )
            x = self._decode(z)
            for stage in (self._select, self._refine):
                self.stats.update(getattr(stage, "stats", {}))
            self.stats["samples"] += hi - lo
            self.stats["seconds"] += time.perf_counter() - t0
            yield lo, z, x
